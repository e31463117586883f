// Server configuration: every variable of DESIGN.md, read from flags then the environment,
// validated once at start-up.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "server/common/database_url.h"

namespace paybell::common {

// A bad configuration value. The message names the variable and never contains a secret.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class LogFormat { kText, kJson };

struct SmtpConfig {
  std::string scheme;  // smtp (STARTTLS required), smtps (implicit TLS), smtp+insecure (tests)
  std::string host;
  int port = 0;
  std::string user;
  std::string password;  // secret
};

struct HostPort {
  std::string host;
  std::optional<int> port;  // nullopt: any port
};

struct Config {
  std::string grpc_listen = "127.0.0.1:50051";
  std::string http_listen = "127.0.0.1:8080";  // empty: adapter disabled
  std::string data_dir = "./paybell-data";
  DatabaseUrl database;
  std::optional<std::string> jwt_secret;            // secret; nullopt: file in data_dir (SQLite)
  std::optional<std::string> stripe_secret_key;     // secret; nullopt: stub mode
  std::vector<std::string> stripe_webhook_secrets;  // secrets; empty: webhooks refused
  std::string stripe_price_starter;
  std::string stripe_price_pro;
  std::string stripe_price_firm;
  std::string stripe_api_base = "https://api.stripe.com";
  int stripe_webhook_tolerance_s = 300;
  std::string app_url = "http://localhost:8080";
  // Whether APP_URL was given. When it was not, paybell-server sets app_url to its embedded
  // adapter's real address once bound (http://127.0.0.1:<port>), so links lead to pages that
  // exist.
  bool app_url_set = false;
  std::optional<SmtpConfig> smtp;  // nullopt: email channel off
  std::string smtp_from = "Paybell <alerts@localhost>";
  std::vector<HostPort> slack_allowed_hosts = {{"hooks.slack.com", std::nullopt}};
  std::string ca_file;
  int debounce_s = 900;
  // Background catch-up from Stripe's event list and full reconcile (one replica at a time);
  // 0 disables. Neither runs in stub mode.
  int sync_interval_s = 300;
  int reconcile_interval_s = 86400;
  LogFormat log_format = LogFormat::kText;
  std::string log_level = "info";

  bool stripe_stub_mode() const { return !stripe_secret_key.has_value(); }
  bool stripe_test_mode() const;
  // One line for the start-up log: addresses, database kind and modes; no secrets.
  std::string Describe() const;
};

// The base URL of links into the HTTP adapter's pages: APP_URL when given, else the adapter's
// own address — http://localhost:<http_port> for a loopback or wildcard listen address, the
// listen host otherwise. `http_port` is the bound port (PAYBELL_HTTP_LISTEN may say 0).
std::string EffectiveAppUrl(const Config& config, int http_port);

// Looks up an environment variable; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup ProcessEnv();

// Builds the configuration. `flags` maps a variable name (e.g. "PAYBELL_GRPC_LISTEN") to a
// command-line value, which wins over the environment. Throws ConfigError.
Config LoadConfig(const EnvLookup& env, const std::map<std::string, std::string>& flags = {});

}  // namespace paybell::common

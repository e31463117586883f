#include "server/common/config.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <sstream>

#include "server/common/url.h"

namespace paybell::common {
namespace {

// Reads one variable: the flag if given, else the environment. An empty environment value
// counts as unset, except where `keep_empty` (PAYBELL_HTTP_LISTEN: empty disables the adapter).
class Source {
 public:
  Source(const EnvLookup& env, const std::map<std::string, std::string>& flags)
      : env_(env), flags_(flags) {}

  std::optional<std::string> Get(const std::string& name, bool keep_empty = false) const {
    if (auto it = flags_.find(name); it != flags_.end()) return it->second;
    auto value = env_(name);
    if (value && value->empty() && !keep_empty) return std::nullopt;
    return value;
  }

 private:
  const EnvLookup& env_;
  const std::map<std::string, std::string>& flags_;
};

[[noreturn]] void Fail(const std::string& name, const std::string& why) {
  throw ConfigError(name + ": " + why);
}

std::vector<std::string> SplitList(const std::string& value) {
  std::vector<std::string> out;
  std::stringstream in(value);
  std::string item;
  while (std::getline(in, item, ',')) {
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    out.push_back(item);
  }
  return out;
}

bool IsToken(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_' || c == '-';
  });
}

bool IsValidHost(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  return std::all_of(host.begin(), host.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '.' || c == '-' || c == ':';
  });
}

int ParseInt(const std::string& name, const std::string& value, int min, int max,
             const char* unit) {
  if (value.empty() || value.size() > 9 ||
      !std::all_of(value.begin(), value.end(), [](unsigned char c) { return std::isdigit(c); })) {
    Fail(name, "expected a whole number of " + std::string(unit) + ", got '" + value + "'");
  }
  const int n = std::stoi(value);
  if (n < min || n > max) {
    Fail(name, "must be between " + std::to_string(min) + " and " + std::to_string(max) + " " +
                   unit + ", got " + value);
  }
  return n;
}

// "host:port", "[v6]:port"; port 0 lets the OS choose (tests).
void ValidateListen(const std::string& name, const std::string& value) {
  const size_t colon = value.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    Fail(name, "expected host:port (for example 127.0.0.1:50051), got '" + value + "'");
  }
  std::string host = value.substr(0, colon);
  if (host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (!IsValidHost(host)) Fail(name, "'" + host + "' is not a valid host");
  ParseInt(name, value.substr(colon + 1), 0, 65535, "(port)");
}

// A base URL Paybell builds links or requests on: http(s), a host, no query; trailing '/' cut.
std::string ValidateBaseUrl(const std::string& name, const std::string& value,
                            bool require_https_off_loopback) {
  auto url = ParseUrl(value);
  if (url && !url->user.empty()) {
    Fail(name, "must not carry a user or password");  // and the value is not echoed
  }
  if (!url || (url->scheme != "http" && url->scheme != "https") || url->host.empty() ||
      !url->query.empty()) {
    Fail(name, "expected an http(s)://host[:port][/path] URL, got '" + value + "'");
  }
  if (require_https_off_loopback && url->scheme != "https" && !IsLoopbackHost(url->host)) {
    Fail(name, "must be https unless it points at a loopback address (got '" + value + "')");
  }
  std::string out = value;
  while (!out.empty() && out.back() == '/') out.pop_back();
  return out;
}

SmtpConfig ParseSmtpUrl(const std::string& value) {
  const std::string name = "SMTP_URL";
  auto url = ParseUrl(value);
  // Never echo the value: it carries the SMTP password.
  if (!url || url->host.empty()) {
    Fail(name, "expected smtp://user:pass@host:587, smtps://… or smtp+insecure://…");
  }
  SmtpConfig smtp;
  smtp.scheme = url->scheme;
  if (smtp.scheme == "smtp") {
    smtp.port = url->port.value_or(587);
  } else if (smtp.scheme == "smtps") {
    smtp.port = url->port.value_or(465);
  } else if (smtp.scheme == "smtp+insecure") {
    smtp.port = url->port.value_or(25);
    // Plain SMTP sends the password and every message in the clear: local test servers only.
    if (!IsLoopbackHost(url->host)) {
      Fail(name,
           "smtp+insecure:// is for a test server on this machine (127.0.0.1, ::1, "
           "localhost); use smtp:// (STARTTLS) or smtps://");
    }
  } else {
    Fail(name, "scheme must be smtp, smtps or smtp+insecure, got '" + url->scheme + "'");
  }
  smtp.host = url->host;
  smtp.user = url->user;
  smtp.password = url->password;
  return smtp;
}

HostPort ParseAllowedHost(const std::string& item) {
  HostPort hp;
  const size_t colon = item.rfind(':');
  const bool bracketed = !item.empty() && item.front() == '[';
  std::string host = item;
  if (colon != std::string::npos && (!bracketed || item[colon - 1] == ']')) {
    host = item.substr(0, colon);
    hp.port = ParseInt("SLACK_ALLOWED_HOSTS", item.substr(colon + 1), 1, 65535, "(port)");
  }
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  std::transform(host.begin(), host.end(), host.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (!IsValidHost(host)) {
    Fail("SLACK_ALLOWED_HOSTS", "'" + item + "' is not a host or host:port");
  }
  hp.host = host;
  return hp;
}

}  // namespace

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

bool Config::stripe_test_mode() const {
  return stripe_secret_key && (stripe_secret_key->rfind("sk_test_", 0) == 0 ||
                               stripe_secret_key->rfind("rk_test_", 0) == 0);
}

std::string Config::Describe() const {
  std::ostringstream out;
  out << "grpc=" << grpc_listen << " http=" << (http_listen.empty() ? "disabled" : http_listen)
      << " database=" << database.Describe()
      << " stripe=" << (stripe_stub_mode() ? "stub" : (stripe_test_mode() ? "test" : "live"))
      << " webhooks=" << (stripe_webhook_secrets.empty() ? "refused" : "accepted") << " email="
      << (smtp ? smtp->scheme + "://" + smtp->host + ":" + std::to_string(smtp->port)
               : std::string("off"))
      << " jwt_secret=" << (jwt_secret ? "env" : "file");
  return out.str();
}

std::string EffectiveAppUrl(const Config& config, int http_port) {
  if (config.app_url_set || config.http_listen.empty()) return config.app_url;
  std::string host = config.http_listen.substr(0, config.http_listen.rfind(':'));
  if (host.empty() || host == "0.0.0.0" || host == "[::]" || host == "127.0.0.1" ||
      host == "[::1]" || host == "localhost") {
    host = "localhost";
  }
  return "http://" + host + ":" + std::to_string(http_port);
}

Config LoadConfig(const EnvLookup& env, const std::map<std::string, std::string>& flags) {
  const Source src(env, flags);
  Config c;

  if (auto v = src.Get("PAYBELL_GRPC_LISTEN")) {
    ValidateListen("PAYBELL_GRPC_LISTEN", *v);
    c.grpc_listen = *v;
  }
  if (auto v = src.Get("PAYBELL_HTTP_LISTEN", /*keep_empty=*/true)) {
    if (!v->empty()) ValidateListen("PAYBELL_HTTP_LISTEN", *v);
    c.http_listen = *v;
  }
  if (auto v = src.Get("PAYBELL_DATA_DIR")) c.data_dir = *v;
  while (c.data_dir.size() > 1 && c.data_dir.back() == '/') c.data_dir.pop_back();

  const std::string database_url =
      src.Get("DATABASE_URL").value_or("sqlite:" + c.data_dir + "/paybell.db");
  try {
    c.database = ParseDatabaseUrl(database_url);
  } catch (const std::invalid_argument& e) {
    Fail("DATABASE_URL", e.what());  // the parser's messages never repeat the password
  }

  if (auto v = src.Get("PAYBELL_JWT_SECRET")) {
    if (v->size() < 32) {
      Fail("PAYBELL_JWT_SECRET", "must be at least 32 characters long (HS256 key strength)");
    }
    c.jwt_secret = *v;
  } else if (c.database.kind == DatabaseKind::kPostgres) {
    // Replicas share a PostgreSQL database, but each would generate its own key file: a token
    // signed by one would fail on the next.
    Fail("PAYBELL_JWT_SECRET",
         "must be set when DATABASE_URL is PostgreSQL: replicas on one database must share one "
         "HS256 key, or a token from one fails on the next (the generated <data-dir>/jwt-secret "
         "is only for the embedded SQLite default)");
  }
  if (auto v = src.Get("STRIPE_SECRET_KEY")) {
    const bool known_prefix = v->rfind("sk_test_", 0) == 0 || v->rfind("sk_live_", 0) == 0 ||
                              v->rfind("rk_test_", 0) == 0 || v->rfind("rk_live_", 0) == 0;
    if (!known_prefix || !IsToken(*v)) {
      Fail("STRIPE_SECRET_KEY", "expected a Stripe secret key (sk_test_…, sk_live_…, rk_…)");
    }
    c.stripe_secret_key = *v;
  }
  if (auto v = src.Get("STRIPE_WEBHOOK_SECRET")) {
    for (const auto& secret : SplitList(*v)) {
      if (secret.rfind("whsec_", 0) != 0 || !IsToken(secret)) {
        Fail("STRIPE_WEBHOOK_SECRET", "expected a comma-separated list of whsec_… secrets (entry " +
                                          std::to_string(c.stripe_webhook_secrets.size() + 1) +
                                          " is not one)");
      }
      c.stripe_webhook_secrets.push_back(secret);
    }
  }
  for (auto [name, field] : {std::pair{"STRIPE_PRICE_STARTER", &c.stripe_price_starter},
                             std::pair{"STRIPE_PRICE_PRO", &c.stripe_price_pro},
                             std::pair{"STRIPE_PRICE_FIRM", &c.stripe_price_firm}}) {
    if (auto v = src.Get(name)) {
      if (!IsToken(*v)) Fail(name, "expected a Stripe price id (price_…), got '" + *v + "'");
      *field = *v;
    }
  }
  if (auto v = src.Get("STRIPE_API_BASE")) {
    // The secret key travels to this URL: plain http only to a local stand-in.
    c.stripe_api_base = ValidateBaseUrl("STRIPE_API_BASE", *v, true);
  }
  if (auto v = src.Get("STRIPE_WEBHOOK_TOLERANCE_S")) {
    c.stripe_webhook_tolerance_s = ParseInt("STRIPE_WEBHOOK_TOLERANCE_S", *v, 1, 86400, "seconds");
  }
  if (auto v = src.Get("APP_URL")) {
    c.app_url = ValidateBaseUrl("APP_URL", *v, false);
    c.app_url_set = true;
  }
  if (auto v = src.Get("SMTP_URL")) c.smtp = ParseSmtpUrl(*v);
  if (auto v = src.Get("SMTP_FROM")) {
    if (v->find_first_of("\r\n") != std::string::npos || v->find('@') == std::string::npos) {
      Fail("SMTP_FROM", "expected one address such as 'Paybell <alerts@example.com>'");
    }
    c.smtp_from = *v;
  }
  if (auto v = src.Get("SLACK_ALLOWED_HOSTS")) {
    c.slack_allowed_hosts.clear();
    for (const auto& item : SplitList(*v)) {
      if (item.empty()) Fail("SLACK_ALLOWED_HOSTS", "contains an empty entry");
      c.slack_allowed_hosts.push_back(ParseAllowedHost(item));
    }
  }
  if (auto v = src.Get("PAYBELL_CA_FILE")) {
    if (access(v->c_str(), R_OK) != 0) Fail("PAYBELL_CA_FILE", "cannot read '" + *v + "'");
    c.ca_file = *v;
  }
  if (auto v = src.Get("PAYBELL_DEBOUNCE_S")) {
    c.debounce_s = ParseInt("PAYBELL_DEBOUNCE_S", *v, 1, 7 * 86400, "seconds");
  }
  if (auto v = src.Get("PAYBELL_SYNC_INTERVAL_S")) {
    c.sync_interval_s = ParseInt("PAYBELL_SYNC_INTERVAL_S", *v, 0, 7 * 86400, "seconds");
  }
  if (auto v = src.Get("PAYBELL_RECONCILE_INTERVAL_S")) {
    c.reconcile_interval_s = ParseInt("PAYBELL_RECONCILE_INTERVAL_S", *v, 0, 30 * 86400, "seconds");
  }
  if (auto v = src.Get("PAYBELL_LOG_FORMAT")) {
    if (*v == "text") {
      c.log_format = LogFormat::kText;
    } else if (*v == "json") {
      c.log_format = LogFormat::kJson;
    } else {
      Fail("PAYBELL_LOG_FORMAT", "expected text or json, got '" + *v + "'");
    }
  }
  if (auto v = src.Get("PAYBELL_LOG_LEVEL")) {
    static const char* const kLevels[] = {"trace", "debug", "info", "warn", "error"};
    if (std::find(std::begin(kLevels), std::end(kLevels), *v) == std::end(kLevels)) {
      Fail("PAYBELL_LOG_LEVEL", "expected trace, debug, info, warn or error, got '" + *v + "'");
    }
    c.log_level = *v;
  }
  return c;
}

}  // namespace paybell::common

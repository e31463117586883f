// paybellctl: the operator's command line. Mints tokens, applies migrations, and asks a running
// server about subscriptions and Stripe events (and replays them).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdlib>
#include <iostream>

#include "db/migrations.h"
#include "db/pool.h"
#include "server/auth/jwt.h"
#include "server/auth/secret_file.h"
#include "server/common/clock.h"
#include "server/common/config.h"
#include "server/sessions/login_link.h"
#include "tools/paybellctl/grpc_commands.h"

namespace {

using paybell::common::Config;

Config LoadConfigWithDataDir(const std::string& data_dir) {
  std::map<std::string, std::string> flags;
  if (!data_dir.empty()) flags["PAYBELL_DATA_DIR"] = data_dir;
  return paybell::common::LoadConfig(paybell::common::ProcessEnv(), flags);
}

// The server's key: PAYBELL_JWT_SECRET, else the file the server generated. Never creates it:
// a token signed with a key no server uses would only confuse.
std::string JwtSecret(const Config& config) {
  if (config.jwt_secret) return *config.jwt_secret;
  const std::string path = config.data_dir + "/jwt-secret";
  if (access(path.c_str(), F_OK) != 0) {
    throw std::runtime_error(path + " does not exist: start paybell-server once (it generates " +
                             "the secret) or set PAYBELL_JWT_SECRET");
  }
  return paybell::auth::LoadOrCreateSecretFile(path);
}

// Who runs paybellctl, for the audit log: PAYBELL_OPERATOR, else the login name.
std::string OperatorName() {
  for (const char* variable : {"PAYBELL_OPERATOR", "SUDO_USER", "USER", "LOGNAME"}) {
    const char* value = std::getenv(variable);
    if (value != nullptr && *value != '\0') return std::string(value) + " (paybellctl)";
  }
  return "unknown operator (paybellctl)";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"paybellctl: operate a Paybell installation"};
  cli.require_subcommand(1);
  std::string data_dir;
  cli.add_option("--data-dir", data_dir, "data directory (PAYBELL_DATA_DIR)");

  auto* token = cli.add_subcommand("token", "mint a signed bearer token for gRPC calls");
  std::string role, tenant, subject = "paybellctl";
  int64_t ttl_s = 3600;
  token->add_option("--role", role, "owner | admin | member | service | operator")->required();
  token->add_option("--tenant", tenant, "tenant id; '*' (the default) for service and operator");
  token->add_option("--sub", subject, "subject: an email or a service name");
  token->add_option("--ttl", ttl_s, "lifetime in seconds (default 3600, at most 30 days)")
      ->check(CLI::Range(int64_t{1}, int64_t{30} * 86400));

  auto* login_link = cli.add_subcommand(
      "login-link", "print a single-use sign-in link (15 minutes at most) for a tenant's user");
  paybell::sessions::LoginLinkRequest link;
  std::string app_url;
  login_link->add_option("--tenant", link.tenant_id, "tenant id")->required();
  login_link->add_option("--email", link.email, "the user's email address")->required();
  login_link->add_option("--role", link.role, "owner | admin | member")->required();
  login_link->add_option("--ttl", link.ttl_s, "lifetime in seconds (1 to 900, default 900)")
      ->check(CLI::Range(int64_t{1}, int64_t{900}));
  login_link->add_option("--app-url", app_url,
                         "base URL of the pages (default APP_URL, else the embedded adapter)");

  auto* migrate = cli.add_subcommand("migrate", "apply pending database migrations");

  // gRPC subcommands: each call carries a token minted for it (5 minutes) with the server's key.
  std::string target;
  cli.add_option("--target", target, "paybell-server's gRPC address (default PAYBELL_GRPC_LISTEN)");
  int grpc_exit = 0;
  // The stub and the token of a command are made after parsing, from the full configuration
  // (PAYBELL_GRPC_LISTEN, the data dir's secret).
  const paybell::ctl::TargetResolver resolve_target = [&] {
    if (target.empty()) {
      target = LoadConfigWithDataDir(data_dir).grpc_listen;
      if (target.rfind("0.0.0.0:", 0) == 0) target = "127.0.0.1:" + target.substr(8);
    }
    return target;
  };
  const paybell::ctl::TokenMinter mint = [&](const std::string& role_name,
                                             const std::string& tenant_id) {
    const Config config = LoadConfigWithDataDir(data_dir);
    const paybell::common::SystemClock clock;
    paybell::auth::Principal principal;
    principal.subject = "paybellctl";
    principal.tenant_id = tenant_id;
    principal.role = *paybell::auth::ParseRole(role_name);
    principal.expires_at = clock.NowUnix() + 300;
    if (principal.role != paybell::auth::Role::kOperator) {
      // Acting as a tenant's role (checkout): the token names the operator as its actor, so
      // the audit log shows who really acted.
      principal.actor = OperatorName();
    }
    return paybell::auth::SignToken(JwtSecret(config), principal, clock.NowUnix());
  };
  paybell::ctl::AddGrpcCommands(cli, &resolve_target, &mint, &grpc_exit);

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e);
  } catch (const std::exception& e) {
    std::cerr << "paybellctl: " << e.what() << "\n";
    return 1;
  }
  if (!*token && !*login_link && !*migrate) return grpc_exit;
  try {
    const Config config = LoadConfigWithDataDir(data_dir);
    const paybell::common::SystemClock clock;
    if (*token) {
      auto parsed_role = paybell::auth::ParseRole(role);
      if (!parsed_role)
        throw std::runtime_error("--role must be owner, admin, member, service or operator");
      const bool cross_tenant = *parsed_role == paybell::auth::Role::kService ||
                                *parsed_role == paybell::auth::Role::kOperator;
      if (tenant.empty()) {
        if (!cross_tenant) throw std::runtime_error("--tenant is required for role " + role);
        tenant = "*";
      }
      paybell::auth::Principal principal;
      principal.subject = subject;
      principal.tenant_id = tenant;
      principal.role = *parsed_role;
      principal.expires_at = clock.NowUnix() + ttl_s;
      std::cout << paybell::auth::SignToken(JwtSecret(config), principal, clock.NowUnix()) << "\n";
    } else if (*login_link) {
      const std::string base = paybell::sessions::LoginLinkBase(config, app_url);
      std::cout << paybell::sessions::MintLoginLink(base, link, JwtSecret(config), clock.NowUnix())
                << "\n";
    } else if (*migrate) {
      paybell::db::ConnectionPool pool(config.database, 1);
      const auto report =
          paybell::db::ApplyMigrations(pool, paybell::db::BuiltinMigrations(), clock.NowUnix());
      std::cout << config.database.Describe() << ": schema at version " << report.current_version
                << ", " << report.applied.size() << " migration(s) applied\n";
    }
  } catch (const std::exception& e) {
    std::cerr << "paybellctl: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

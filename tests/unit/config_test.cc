#include "server/common/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace paybell::common {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

using Env = std::map<std::string, std::string>;

Config Load(const Env& env, const std::map<std::string, std::string>& flags = {}) {
  return LoadConfig(
      [&env](const std::string& name) -> std::optional<std::string> {
        auto it = env.find(name);
        if (it == env.end()) return std::nullopt;
        return it->second;
      },
      flags);
}

// The message of the ConfigError that loading `env` raises.
std::string ErrorOf(const Env& env) {
  try {
    Load(env);
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a ConfigError";
  return "";
}

TEST(ConfigTest, DefaultsMatchTheDesign) {
  const Config c = Load({});
  EXPECT_EQ(c.grpc_listen, "127.0.0.1:50051");
  EXPECT_EQ(c.http_listen, "127.0.0.1:8080");
  EXPECT_EQ(c.data_dir, "./paybell-data");
  EXPECT_EQ(c.database.kind, DatabaseKind::kSqlite);
  EXPECT_EQ(c.database.sqlite_path, "./paybell-data/paybell.db");
  EXPECT_FALSE(c.jwt_secret.has_value());
  EXPECT_TRUE(c.stripe_stub_mode());
  EXPECT_FALSE(c.stripe_test_mode());
  EXPECT_TRUE(c.stripe_webhook_secrets.empty());
  EXPECT_EQ(c.stripe_api_base, "https://api.stripe.com");
  EXPECT_EQ(c.stripe_webhook_tolerance_s, 300);
  EXPECT_EQ(c.app_url, "http://localhost:8080");
  EXPECT_FALSE(c.smtp.has_value());
  EXPECT_EQ(c.smtp_from, "Paybell <alerts@localhost>");
  ASSERT_EQ(c.slack_allowed_hosts.size(), 1u);
  EXPECT_EQ(c.slack_allowed_hosts[0].host, "hooks.slack.com");
  EXPECT_EQ(c.debounce_s, 900);
  EXPECT_EQ(c.log_format, LogFormat::kText);
  EXPECT_EQ(c.log_level, "info");
}

TEST(ConfigTest, FlagsOverrideEnvironment) {
  const Config c = Load({{"PAYBELL_GRPC_LISTEN", "127.0.0.1:6000"},
                         {"PAYBELL_DATA_DIR", "/env/dir"},
                         {"DATABASE_URL", "sqlite:/env/db.sqlite"}},
                        {{"PAYBELL_GRPC_LISTEN", "0.0.0.0:7000"},
                         {"PAYBELL_DATA_DIR", "/flag/dir/"},
                         {"DATABASE_URL", "sqlite:/flag/db.sqlite"}});
  EXPECT_EQ(c.grpc_listen, "0.0.0.0:7000");
  EXPECT_EQ(c.data_dir, "/flag/dir");
  EXPECT_EQ(c.database.sqlite_path, "/flag/db.sqlite");
}

TEST(ConfigTest, DefaultDatabaseFollowsDataDir) {
  EXPECT_EQ(Load({{"PAYBELL_DATA_DIR", "/var/lib/paybell"}}).database.sqlite_path,
            "/var/lib/paybell/paybell.db");
}

TEST(ConfigTest, EmptyHttpListenDisablesTheAdapter) {
  EXPECT_EQ(Load({{"PAYBELL_HTTP_LISTEN", ""}}).http_listen, "");
  EXPECT_EQ(Load({}, {{"PAYBELL_HTTP_LISTEN", ""}}).http_listen, "");
}

TEST(ConfigTest, EmptyOptionalVariablesCountAsUnset) {
  const Config c = Load({{"STRIPE_SECRET_KEY", ""}, {"SMTP_URL", ""}});
  EXPECT_TRUE(c.stripe_stub_mode());
  EXPECT_FALSE(c.smtp.has_value());
}

TEST(ConfigTest, StripeModes) {
  EXPECT_TRUE(Load({{"STRIPE_SECRET_KEY", "sk_test_abc123"}}).stripe_test_mode());
  const Config live = Load({{"STRIPE_SECRET_KEY", "sk_live_abc123"}});
  EXPECT_FALSE(live.stripe_stub_mode());
  EXPECT_FALSE(live.stripe_test_mode());
  EXPECT_TRUE(Load({{"STRIPE_SECRET_KEY", "rk_test_abc"}}).stripe_test_mode());
}

TEST(ConfigTest, WebhookSecretsAreAList) {
  const Config c = Load({{"STRIPE_WEBHOOK_SECRET", "whsec_old, whsec_new"}});
  EXPECT_EQ(c.stripe_webhook_secrets, (std::vector<std::string>{"whsec_old", "whsec_new"}));
}

TEST(ConfigTest, ParsesSmtpUrls) {
  const Config c = Load({{"SMTP_URL", "smtp://alerts%40x.com:p%40ss@mail.example.com"}});
  ASSERT_TRUE(c.smtp.has_value());
  EXPECT_EQ(c.smtp->scheme, "smtp");
  EXPECT_EQ(c.smtp->host, "mail.example.com");
  EXPECT_EQ(c.smtp->port, 587);
  EXPECT_EQ(c.smtp->user, "alerts@x.com");
  EXPECT_EQ(c.smtp->password, "p@ss");
  EXPECT_EQ(Load({{"SMTP_URL", "smtps://h"}}).smtp->port, 465);
  EXPECT_EQ(Load({{"SMTP_URL", "smtp+insecure://127.0.0.1:2525"}}).smtp->port, 2525);
  // Plain SMTP would carry the password across the network in the clear.
  const std::string refused =
      ErrorOf({{"SMTP_URL", "smtp+insecure://u:secretpw@mail.example.com"}});
  EXPECT_THAT(refused, ::testing::HasSubstr("SMTP_URL"));
  EXPECT_THAT(refused, ::testing::Not(::testing::HasSubstr("secretpw")));
}

TEST(ConfigTest, ParsesSlackAllowedHosts) {
  const Config c = Load({{"SLACK_ALLOWED_HOSTS", "hooks.slack.com, 127.0.0.1:9443,[::1]:8443"}});
  ASSERT_EQ(c.slack_allowed_hosts.size(), 3u);
  EXPECT_FALSE(c.slack_allowed_hosts[0].port.has_value());
  EXPECT_EQ(c.slack_allowed_hosts[1].host, "127.0.0.1");
  EXPECT_EQ(c.slack_allowed_hosts[1].port, 9443);
  EXPECT_EQ(c.slack_allowed_hosts[2].host, "::1");
  EXPECT_EQ(c.slack_allowed_hosts[2].port, 8443);
}

TEST(ConfigTest, TrailingSlashIsCutFromBaseUrls) {
  const Config c =
      Load({{"APP_URL", "https://app.example.com/"}, {"STRIPE_API_BASE", "http://127.0.0.1:9/"}});
  EXPECT_EQ(c.app_url, "https://app.example.com");
  EXPECT_EQ(c.stripe_api_base, "http://127.0.0.1:9");
}

// Every replica on one PostgreSQL must accept the tokens the others signed; a key file
// generated per data directory would give each its own.
TEST(ConfigTest, PostgresNeedsASharedJwtSecret) {
  const std::string message = ErrorOf({{"DATABASE_URL", "postgresql://paybell@db/paybell"}});
  EXPECT_THAT(message, HasSubstr("PAYBELL_JWT_SECRET:"));
  EXPECT_THAT(message, HasSubstr("replicas on one database must share one HS256 key"));
  const Config c = Load({{"DATABASE_URL", "postgresql://paybell@db/paybell"},
                         {"PAYBELL_JWT_SECRET", std::string(32, 's')}});
  EXPECT_EQ(c.jwt_secret, std::string(32, 's'));
  // The generated key file stays the convenience of the embedded SQLite default.
  EXPECT_FALSE(Load({{"DATABASE_URL", "sqlite:/tmp/p.db"}}).jwt_secret.has_value());
}

struct BadValue {
  std::string variable;
  std::string value;
};

class BadValueTest : public ::testing::TestWithParam<BadValue> {};

TEST_P(BadValueTest, StopsStartUpNamingTheVariable) {
  EXPECT_THAT(ErrorOf({{GetParam().variable, GetParam().value}}),
              HasSubstr(GetParam().variable + ":"));
}

INSTANTIATE_TEST_SUITE_P(
    EveryVariable, BadValueTest,
    ::testing::Values(
        BadValue{"PAYBELL_GRPC_LISTEN", "localhost"},
        BadValue{"PAYBELL_GRPC_LISTEN", "127.0.0.1:99999"},
        BadValue{"PAYBELL_HTTP_LISTEN", "127.0.0.1:http"},
        BadValue{"DATABASE_URL", "mysql://u:p@h/db"}, BadValue{"DATABASE_URL", "sqlite:"},
        BadValue{"DATABASE_URL", "postgresql://u:p@h:notaport/db"},
        BadValue{"PAYBELL_JWT_SECRET", "short"},
        BadValue{"STRIPE_SECRET_KEY", "pk_test_publishable"},
        BadValue{"STRIPE_WEBHOOK_SECRET", "whsec_ok,,whsec_b"},
        BadValue{"STRIPE_WEBHOOK_SECRET", "not-a-secret"},
        BadValue{"STRIPE_PRICE_STARTER", "price 1"}, BadValue{"STRIPE_PRICE_PRO", "price/2"},
        BadValue{"STRIPE_PRICE_FIRM", "<script>"},
        BadValue{"STRIPE_API_BASE", "ftp://api.stripe.com"},
        BadValue{"STRIPE_API_BASE", "http://api.stripe.com"},
        BadValue{"STRIPE_API_BASE", "http://127.evil.example"},
        BadValue{"STRIPE_WEBHOOK_TOLERANCE_S", "0"}, BadValue{"STRIPE_WEBHOOK_TOLERANCE_S", "five"},
        BadValue{"APP_URL", "app.example.com"}, BadValue{"SMTP_URL", "http://mail.example.com"},
        BadValue{"SMTP_URL", "smtp://"}, BadValue{"SMTP_FROM", "Paybell\r\nBcc: x@evil.com"},
        BadValue{"SLACK_ALLOWED_HOSTS", "hooks.slack.com,,x"},
        BadValue{"SLACK_ALLOWED_HOSTS", "host:0"},
        BadValue{"PAYBELL_CA_FILE", "/nonexistent/ca.pem"}, BadValue{"PAYBELL_DEBOUNCE_S", "-5"},
        BadValue{"PAYBELL_DEBOUNCE_S", "abc"}, BadValue{"PAYBELL_LOG_FORMAT", "xml"},
        BadValue{"PAYBELL_LOG_LEVEL", "verbose"}),
    [](const ::testing::TestParamInfo<BadValue>& param_info) {
      return param_info.param.variable + "_" + std::to_string(param_info.index);
    });

TEST(ConfigTest, ErrorsNeverRepeatSecrets) {
  EXPECT_THAT(ErrorOf({{"STRIPE_SECRET_KEY", "sk_oops_secretvalue"}}),
              Not(HasSubstr("secretvalue")));
  EXPECT_THAT(ErrorOf({{"STRIPE_WEBHOOK_SECRET", "whsec_good,whsec-bad-secretvalue"}}),
              Not(HasSubstr("secretvalue")));
  EXPECT_THAT(ErrorOf({{"SMTP_URL", "ftp://user:secretvalue@host"}}),
              Not(HasSubstr("secretvalue")));
  EXPECT_THAT(ErrorOf({{"DATABASE_URL", "postgresql://u:secretvalue@h:99999/db"}}),
              Not(HasSubstr("secretvalue")));
  EXPECT_THAT(ErrorOf({{"PAYBELL_JWT_SECRET", "secretvalue"}}), Not(HasSubstr("secretvalue")));
  EXPECT_THAT(ErrorOf({{"STRIPE_API_BASE", "https://u:secretvalue@api.stripe.com"}}),
              Not(HasSubstr("secretvalue")));
}

TEST(ConfigTest, DescribeNamesModesButNoSecrets) {
  const Config c = Load({{"STRIPE_SECRET_KEY", "sk_test_secretvalue"},
                         {"STRIPE_WEBHOOK_SECRET", "whsec_secretvalue"},
                         {"PAYBELL_JWT_SECRET", std::string(40, 's') + "secretvalue"},
                         {"SMTP_URL", "smtp://u:secretvalue@mail.example.com"},
                         {"DATABASE_URL", "postgresql://paybell:secretvalue@db:5432/paybell"}});
  const std::string line = c.Describe();
  EXPECT_THAT(line, Not(HasSubstr("secretvalue")));
  EXPECT_THAT(line, HasSubstr("stripe=test"));
  EXPECT_THAT(line, HasSubstr("webhooks=accepted"));
  EXPECT_THAT(line, HasSubstr("database=postgresql paybell@db:5432/paybell"));
  EXPECT_THAT(line, HasSubstr("grpc=127.0.0.1:50051"));
}

}  // namespace
}  // namespace paybell::common

// The paybell-server binary as an operator runs it: start-up failures, restart, SIGTERM.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "db/soci_database.h"
#include "paybell/v1/billing.grpc.pb.h"
#include "paybell/v1/session.grpc.pb.h"
#include "server/auth/jwt.h"
#include "server/common/clock.h"
#include "server/common/database_url.h"
#include "tests/support/db_backends.h"
#include "tests/support/process.h"
#include "tests/support/stripe_events.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_database.h"

namespace paybell {
namespace {

using testing::ChildProcess;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::ServerProcess;
using testing::TempDir;

constexpr auto kStartTimeout = std::chrono::seconds(30);

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string OperatorToken(const std::string& secret) {
  const common::SystemClock clock;
  return auth::SignToken(secret, {"ops", "*", auth::Role::kOperator, clock.NowUnix() + 600},
                         clock.NowUnix());
}

grpc::Status GetSubscription(const std::string& target, const std::string& token,
                             const std::string& tenant, v1::Subscription* out) {
  auto stub =
      v1::BillingService::NewStub(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  context.AddMetadata("authorization", "Bearer " + token);
  v1::GetSubscriptionRequest request;
  request.set_tenant_id(tenant);
  return stub->GetSubscription(&context, request, out);
}

TEST(ServerProcessTest, BadConfigurationStopsStartUpNamingTheVariable) {
  TempDir dir;
  ChildProcess server(testing::RequiredEnv("PAYBELL_SERVER_BIN"), {"--data-dir", dir.path()},
                      {{"PAYBELL_DEBOUNCE_S", "soon"}});
  const auto code = server.WaitForExit(kStartTimeout);
  ASSERT_TRUE(code.has_value());
  EXPECT_NE(*code, 0);
  EXPECT_THAT(server.output(), HasSubstr("PAYBELL_DEBOUNCE_S"));
}

TEST(ServerProcessTest, UnreachableDatabaseStopsStartUpNamingTheHostNotThePassword) {
  TempDir dir;
  ChildProcess server(testing::RequiredEnv("PAYBELL_SERVER_BIN"),
                      {"--data-dir", dir.path(), "--grpc-listen", "127.0.0.1:0", "--database-url",
                       "postgresql://paybell:s3cretpass@127.0.0.1:1/paybell"},
                      {{"PAYBELL_JWT_SECRET", std::string(40, 'j')}});
  const auto code = server.WaitForExit(kStartTimeout);
  ASSERT_TRUE(code.has_value());
  EXPECT_NE(*code, 0);
  EXPECT_THAT(server.output(), HasSubstr("127.0.0.1:1"));
  EXPECT_THAT(server.output(), Not(HasSubstr("s3cretpass")));
}

TEST(ServerProcessTest, StartUpLineNamesAddressesAndDatabaseButNoSecrets) {
  TempDir dir;
  ServerProcess server(dir.path(), {{"STRIPE_SECRET_KEY", "sk_test_supersecretkey"},
                                    {"STRIPE_WEBHOOK_SECRET", "whsec_supersecretwh"}});
  const std::string log = server.process().output();
  EXPECT_THAT(log, HasSubstr("grpc=127.0.0.1:0"));
  EXPECT_THAT(log, HasSubstr("database=sqlite"));
  EXPECT_THAT(log, HasSubstr("stripe=test"));
  EXPECT_THAT(log, Not(HasSubstr("supersecret")));
  EXPECT_THAT(log, Not(HasSubstr(ReadFile(dir.File("jwt-secret")).substr(0, 16))));
  EXPECT_EQ(server.process().Stop(), 0);
}

TEST(ServerProcessTest, RestartKeepsDataAndGeneratedSecret) {
  TempDir dir;
  std::string secret;
  {
    ServerProcess server(dir.path());
    secret = ReadFile(dir.File("jwt-secret"));
    EXPECT_EQ(server.process().Stop(), 0);
  }
  {
    // What Stripe's webhook will do later: store a subscription while the server is down.
    db::SociDatabase db(common::ParseDatabaseUrl("sqlite:" + dir.File("paybell.db")), 1);
    domain::Subscription r;
    r.tenant_id = "acme";
    r.plan = domain::Plan::kPro;
    r.status = domain::SubscriptionStatus::kActive;
    db.Transact("store", [&](db::UnitOfWork& unit) {
      unit.subscriptions().Upsert(r);
      unit.Commit();
    });
  }
  ServerProcess server(dir.path());
  EXPECT_EQ(ReadFile(dir.File("jwt-secret")), secret);
  v1::Subscription s;
  const grpc::Status status =
      GetSubscription(server.grpc_target(), OperatorToken(secret.substr(0, 64)), "acme", &s);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(s.status(), v1::SUBSCRIPTION_STATUS_ACTIVE);
  EXPECT_EQ(s.plan(), v1::PLAN_PRO);
  EXPECT_EQ(server.process().Stop(), 0);
}

// The PostgreSQL database comes from the same fixture the db suites use (skips, or fails under
// tools/test, when no PostgreSQL was provided).
class ServerOnPostgresTest : public testing::EngineTest<testing::Postgres> {};

TEST_F(ServerOnPostgresTest, ServesFromPostgres) {
  TempDir dir;
  const std::string secret(48, 'k');
  ServerProcess server(dir.path(),
                       {{"DATABASE_URL", database_->url()}, {"PAYBELL_JWT_SECRET", secret}});
  EXPECT_THAT(server.process().output(), HasSubstr("database=postgresql"));
  v1::Subscription s;
  ASSERT_TRUE(GetSubscription(server.grpc_target(), OperatorToken(secret), "acme", &s).ok());
  EXPECT_EQ(s.status(), v1::SUBSCRIPTION_STATUS_NONE);
  EXPECT_EQ(server.process().Stop(), 0);
}

TEST(ServerProcessTest, PaybellRestServesWebhooksForARemoteServer) {
  TempDir dir;
  const std::string secret = "whsec_rest_test";
  ServerProcess server(dir.path(), {{"STRIPE_WEBHOOK_SECRET", secret}});
  ChildProcess rest(PAYBELL_REST_BIN,
                    {"--grpc-target", server.grpc_target(), "--http-listen", "127.0.0.1:0"}, {});
  const auto started = rest.WaitForOutput("http_port=", kStartTimeout);
  ASSERT_TRUE(started) << rest.output();
  std::smatch match;
  ASSERT_TRUE(std::regex_search(*started, match, std::regex("http_port=(\\d+)")));
  httplib::Client client("127.0.0.1", std::stoi(match[1]));
  client.set_read_timeout(std::chrono::seconds(10));

  auto ready = client.Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200) << ready->body;
  const std::string payload = testing::EventPayload(
      "evt_rest", "customer.subscription.created", 100,
      testing::SubscriptionObject(testing::SubscriptionSpec{}, testing::ApiShape::kCurrent));
  const common::SystemClock clock;
  auto res = client.Post(
      "/stripe/webhook",
      {{"Stripe-Signature", testing::SignatureHeader(secret, clock.NowUnix(), payload)}}, payload,
      "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_THAT(res->body, HasSubstr("applied"));

  // The server gone: readiness says so instead of hanging.
  EXPECT_EQ(server.process().Stop(), 0);
  auto not_ready = client.Get("/readyz");
  ASSERT_TRUE(not_ready);
  EXPECT_EQ(not_ready->status, 503);
  EXPECT_EQ(rest.Stop(), 0);
}

TEST(ServerProcessTest, PaybellctlAsksARunningServer) {
  TempDir dir;
  ServerProcess server(dir.path());
  const std::vector<std::string> base = {"--data-dir", dir.path(), "--target",
                                         server.grpc_target()};
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), base.begin(), base.end());
    ChildProcess ctl(PAYBELL_CTL_BIN, args, {{"PAYBELL_OPERATOR", "dana"}});
    const auto code = ctl.WaitForExit(kStartTimeout);
    return std::make_pair(code.value_or(-1), ctl.output());
  };
  const auto [sub_code, sub_out] = run({"subscription", "--tenant", "acme"});
  EXPECT_EQ(sub_code, 0) << sub_out;
  EXPECT_THAT(sub_out, HasSubstr("\"status\": \"SUBSCRIPTION_STATUS_NONE\""));
  const auto [replay_code, replay_out] = run({"replay", "evt_missing"});
  EXPECT_EQ(replay_code, 1);
  EXPECT_THAT(replay_out, HasSubstr("NOT_FOUND"));
  // The server's message echoes the id: a terminal escape in it is printed escaped.
  const auto [forged_code, forged_out] = run({"replay", "evt_\x1b[2J\r\nforged"});
  EXPECT_EQ(forged_code, 1);
  EXPECT_THAT(forged_out, HasSubstr("evt_\\x1b[2J\\r\\nforged"));
  EXPECT_EQ(forged_out.find('\x1b'), std::string::npos);
  const auto [checkout_code, checkout_out] = run({"checkout", "--tenant", "acme", "--plan", "pro"});
  EXPECT_EQ(checkout_code, 0) << checkout_out;
  EXPECT_THAT(checkout_out, HasSubstr("\"stub\": true"));
  EXPECT_EQ(server.process().Stop(), 0);

  // The operator, not the tenant's owner, is on record for the checkout.
  db::SociDatabase db(common::ParseDatabaseUrl("sqlite:" + dir.File("paybell.db")), 1);
  std::vector<db::AuditEntry> audit;
  db.Read("audit", [&](db::UnitOfWork& unit) { audit = unit.audit().ListForTenant("acme", 10); });
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0].action, "billing.checkout_session.created");
  EXPECT_EQ(audit[0].actor, "dana (paybellctl)");
  EXPECT_EQ(audit[0].actor_role, "operator");
  EXPECT_THAT(audit[0].detail, HasSubstr("\"on_behalf_of\""));
  EXPECT_THAT(audit[0].detail, HasSubstr("\"role\":\"owner\""));
}

// The documented default: without --target, paybellctl calls PAYBELL_GRPC_LISTEN.
TEST(ServerProcessTest, PaybellctlFindsTheServerThroughPaybellGrpcListen) {
  TempDir dir;
  ServerProcess server(dir.path());
  ChildProcess ctl(PAYBELL_CTL_BIN, {"--data-dir", dir.path(), "subscription", "--tenant", "acme"},
                   {{"PAYBELL_GRPC_LISTEN", server.grpc_target()}});
  EXPECT_EQ(ctl.WaitForExit(kStartTimeout), 0) << ctl.output();
  EXPECT_THAT(ctl.output(), HasSubstr("SUBSCRIPTION_STATUS_NONE"));
  EXPECT_EQ(server.process().Stop(), 0);
}

// An operator hands a user a sign-in link; the adapter trades its token for a session, once.
TEST(ServerProcessTest, PaybellctlLoginLinkStartsOneSession) {
  TempDir dir;
  ServerProcess server(dir.path());
  ChildProcess ctl(PAYBELL_CTL_BIN,
                   {"--data-dir", dir.path(), "login-link", "--tenant", "acme", "--email",
                    "ann@example.com", "--role", "admin", "--app-url", "https://pay.example.com/"},
                   {});
  ASSERT_EQ(ctl.WaitForExit(kStartTimeout), 0) << ctl.output();
  std::smatch match;
  const std::string out = ctl.output();
  static const std::regex kLink(R"(^https://pay\.example\.com/login\?token=([A-Za-z0-9_.-]+)\n$)");
  ASSERT_TRUE(std::regex_match(out, match, kLink)) << out;
  const std::string token = match[1];

  auto sessions = v1::SessionService::NewStub(
      grpc::CreateChannel(server.grpc_target(), grpc::InsecureChannelCredentials()));
  auto start = [&](v1::StartSessionResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::StartSessionRequest request;
    request.set_login_token(token);
    return sessions->StartSession(&context, request, response);
  };
  v1::StartSessionResponse started;
  const grpc::Status first = start(&started);
  ASSERT_TRUE(first.ok()) << first.error_message();
  EXPECT_EQ(started.tenant_id(), "acme");
  EXPECT_EQ(started.subject(), "ann@example.com");
  EXPECT_EQ(started.role(), "admin");
  v1::Subscription subscription;
  EXPECT_TRUE(
      GetSubscription(server.grpc_target(), started.session_token(), "acme", &subscription).ok());
  v1::StartSessionResponse again;
  EXPECT_EQ(start(&again).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  sessions.reset();  // an open channel would hold up the server's drain
  EXPECT_EQ(server.process().Stop(), 0);
}

// Without APP_URL the link leads to the embedded adapter; with the adapter off it cannot.
TEST(ServerProcessTest, PaybellctlLoginLinkNeedsToKnowWhereThePagesAre) {
  TempDir dir;
  ServerProcess server(dir.path());
  const std::vector<std::string> args = {
      "--data-dir",      dir.path(), "login-link", "--tenant", "acme", "--email",
      "ann@example.com", "--role",   "owner",      "--ttl",    "60"};
  ChildProcess adapter(PAYBELL_CTL_BIN, args, {{"PAYBELL_HTTP_LISTEN", "0.0.0.0:8088"}});
  ASSERT_EQ(adapter.WaitForExit(kStartTimeout), 0) << adapter.output();
  EXPECT_THAT(adapter.output(), ::testing::StartsWith("http://localhost:8088/login?token="));

  ChildProcess disabled(PAYBELL_CTL_BIN, args, {{"PAYBELL_HTTP_LISTEN", ""}});
  EXPECT_EQ(disabled.WaitForExit(kStartTimeout), 1);
  EXPECT_THAT(disabled.output(), HasSubstr("--app-url"));
  EXPECT_THAT(disabled.output(), Not(HasSubstr("token=")));

  ChildProcess bad_email(PAYBELL_CTL_BIN,
                         {"--data-dir", dir.path(), "login-link", "--tenant", "acme", "--email",
                          "ann", "--role", "owner", "--app-url", "http://localhost:1"},
                         {});
  EXPECT_EQ(bad_email.WaitForExit(kStartTimeout), 1);
  EXPECT_THAT(bad_email.output(), HasSubstr("--email"));
  EXPECT_EQ(server.process().Stop(), 0);
}

TEST(ServerProcessTest, SigtermStopsCleanly) {
  TempDir dir;
  ServerProcess server(dir.path());
  EXPECT_EQ(server.process().Stop(), 0);
  EXPECT_THAT(server.process().output(), HasSubstr("paybell-server stopped"));
}

}  // namespace
}  // namespace paybell

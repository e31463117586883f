// Browser sessions through the real server in this process, over loopback gRPC: a sign-in
// link's token starts one session, whose token then works as a bearer until it is ended.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "db/unit_of_work.h"
#include "paybell/v1/billing.grpc.pb.h"
#include "paybell/v1/session.grpc.pb.h"
#include "server/app/server_app.h"
#include "server/auth/jwt.h"
#include "tests/support/loopback_config.h"
#include "tests/support/temp_dir.h"

namespace paybell {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class SessionGrpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    common::Config config = testing::LoopbackConfig(dir_);
    config.http_listen = "";
    app_ = std::make_unique<app::ServerApp>(config, clock_);
    app_->Start();
    channel_ = grpc::CreateChannel(app_->grpc_address(), grpc::InsecureChannelCredentials());
    billing_ = v1::BillingService::NewStub(channel_);
    sessions_ = v1::SessionService::NewStub(channel_);
  }

  void TearDown() override { app_->Shutdown(std::chrono::seconds(5)); }

  // What paybellctl login-link mints.
  std::string LoginToken(const std::string& jti, int64_t issued_at, int64_t ttl = 900,
                         auth::Role role = auth::Role::kAdmin) {
    auth::Principal link;
    link.subject = "ann@example.com";
    link.tenant_id = "acme";
    link.role = role;
    link.expires_at = issued_at + ttl;
    link.token_id = jti;
    link.purpose = "login";
    return auth::SignToken(testing::kTestJwtSecret, link, issued_at);
  }

  std::unique_ptr<grpc::ClientContext> Context(const std::string& token) {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (!token.empty()) context->AddMetadata("authorization", "Bearer " + token);
    return context;
  }

  grpc::Status Start(const std::string& login_token, v1::StartSessionResponse* out) {
    v1::StartSessionRequest request;
    request.set_login_token(login_token);
    return sessions_->StartSession(Context("").get(), request, out);
  }

  grpc::Status End(const std::string& token) {
    v1::EndSessionResponse response;
    return sessions_->EndSession(Context(token).get(), {}, &response);
  }

  grpc::Status GetSubscription(const std::string& token, const std::string& tenant) {
    v1::GetSubscriptionRequest request;
    request.set_tenant_id(tenant);
    v1::Subscription response;
    return billing_->GetSubscription(Context(token).get(), request, &response);
  }

  std::vector<db::AuditEntry> Audit() {
    std::vector<db::AuditEntry> audit;
    app_->database().Read(
        "audit", [&](db::UnitOfWork& unit) { audit = unit.audit().ListForTenant("acme", 20); });
    return audit;
  }

  int64_t Now() const { return clock_.NowUnix(); }

  common::SystemClock clock_;
  testing::TempDir dir_;
  std::unique_ptr<app::ServerApp> app_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::BillingService::Stub> billing_;
  std::unique_ptr<v1::SessionService::Stub> sessions_;
};

TEST_F(SessionGrpcTest, ASignInLinkStartsOneSessionOnly) {
  const std::string link = LoginToken("jti-once", Now());
  v1::StartSessionResponse started;
  const grpc::Status first = Start(link, &started);
  ASSERT_TRUE(first.ok()) << first.error_message();
  EXPECT_EQ(started.tenant_id(), "acme");
  EXPECT_EQ(started.subject(), "ann@example.com");
  EXPECT_EQ(started.role(), "admin");
  EXPECT_FALSE(started.session_token().empty());
  EXPECT_GE(started.csrf_token().size(), 43u);
  EXPECT_NEAR(started.expires_at().seconds(), Now() + 12 * 3600, 5);

  v1::StartSessionResponse again;
  const grpc::Status second = Start(link, &again);
  EXPECT_EQ(second.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(second.error_message(), "this sign-in link was already used");
  EXPECT_TRUE(again.session_token().empty());
}

TEST_F(SessionGrpcTest, ConcurrentUsesOfOneLinkStartOneSession) {
  const std::string link = LoginToken("jti-race", Now());
  std::atomic<int> ok{0}, already_used{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      while (!go.load()) std::this_thread::yield();
      v1::StartSessionResponse response;
      const grpc::Status status = Start(link, &response);
      if (status.ok()) ++ok;
      if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED) ++already_used;
    });
  }
  go = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(already_used.load(), 3);
}

TEST_F(SessionGrpcTest, TheSessionTokenIsABearerUntilTheSessionEnds) {
  v1::StartSessionResponse started;
  ASSERT_TRUE(Start(LoginToken("jti-bearer", Now()), &started).ok());
  const std::string& session = started.session_token();

  const grpc::Status read = GetSubscription(session, "acme");
  EXPECT_TRUE(read.ok()) << read.error_message();
  EXPECT_EQ(GetSubscription(session, "globex").error_code(), grpc::StatusCode::PERMISSION_DENIED);

  const grpc::Status ended = End(session);
  ASSERT_TRUE(ended.ok()) << ended.error_message();
  const grpc::Status after = GetSubscription(session, "acme");
  EXPECT_EQ(after.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(after.error_message(), "your session has ended; sign in again");
  // Signing out again (another tab) is fine and changes nothing.
  EXPECT_TRUE(End(session).ok());

  const auto audit = Audit();
  ASSERT_EQ(audit.size(), 2u);
  EXPECT_EQ(audit[0].action, "session.ended");
  EXPECT_EQ(audit[1].action, "session.started");
  for (const auto& entry : audit) {
    EXPECT_EQ(entry.actor, "ann@example.com");
    EXPECT_EQ(entry.actor_role, "admin");
    EXPECT_EQ(entry.tenant_id, "acme");
    EXPECT_THAT(entry.detail, HasSubstr("\"role\":\"admin\""));
    EXPECT_THAT(entry.detail + entry.target, Not(HasSubstr(started.csrf_token())));
    EXPECT_THAT(entry.detail + entry.target, Not(HasSubstr(session.substr(0, 20))));
  }
}

TEST_F(SessionGrpcTest, ASignInLinkTokenIsNoBearerToken) {
  const std::string link = LoginToken("jti-bearer-attempt", Now());
  const grpc::Status status = GetSubscription(link, "acme");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(status.error_message(), "a sign-in link token only starts a browser session");
  // ... and trying does not use it up.
  v1::StartSessionResponse started;
  EXPECT_TRUE(Start(link, &started).ok());
}

TEST_F(SessionGrpcTest, ExpiredOrLongLivedOrForeignLinksAreRefused) {
  v1::StartSessionResponse response;
  const grpc::Status expired = Start(LoginToken("jti-old", Now() - 1000), &response);
  EXPECT_EQ(expired.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(expired.error_message(), "this sign-in link has expired");

  const grpc::Status too_long = Start(LoginToken("jti-long", Now(), 16 * 60), &response);
  EXPECT_EQ(too_long.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(too_long.error_message(), HasSubstr("15 minutes"));

  const std::string service = auth::SignToken(
      testing::kTestJwtSecret, {"worker", "*", auth::Role::kService, Now() + 600}, Now());
  EXPECT_EQ(Start(service, &response).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Start("", &response).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(Audit().empty());
}

TEST_F(SessionGrpcTest, EndSessionNeedsASessionToken) {
  const std::string owner = auth::SignToken(
      testing::kTestJwtSecret, {"ann@example.com", "acme", auth::Role::kOwner, Now() + 600}, Now());
  const grpc::Status plain = End(owner);
  EXPECT_EQ(plain.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(plain.error_message(), "EndSession needs a browser session token");
  EXPECT_EQ(End("").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  // Tokens without a session id go on working without any session row.
  EXPECT_TRUE(GetSubscription(owner, "acme").ok());
}

TEST_F(SessionGrpcTest, ASessionTokenForAnUnknownSessionIsRefused) {
  auth::Principal session{"ann@example.com", "acme", auth::Role::kAdmin, Now() + 600};
  session.session_id = "never-started";
  const std::string token = auth::SignSessionToken(testing::kTestJwtSecret, session, Now(), "csrf");
  EXPECT_EQ(GetSubscription(token, "acme").error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

}  // namespace
}  // namespace paybell

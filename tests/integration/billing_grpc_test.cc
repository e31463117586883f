// The real server (ServerApp) in this process on a loopback port, called through generated gRPC
// stubs.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "db/unit_of_work.h"
#include "paybell/v1/billing.grpc.pb.h"
#include "paybell/v1/notification.grpc.pb.h"
#include "paybell/v1/webhook.grpc.pb.h"
#include "server/app/server_app.h"
#include "server/auth/jwt.h"
#include "tests/support/temp_dir.h"

namespace paybell {
namespace {

using ::testing::HasSubstr;

const std::string kSecret = "in-process-test-secret-0123456789abcdef";

class BillingGrpcTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(common::Config{}); }

  void StartServer(common::Config config) {
    config.grpc_listen = "127.0.0.1:0";
    config.http_listen = "";
    config.data_dir = dir_.path();
    config.database = common::ParseDatabaseUrl("sqlite:" + dir_.File("paybell.db"));
    config.jwt_secret = kSecret;
    app_.reset();
    app_ = std::make_unique<app::ServerApp>(config, clock_);
    app_->Start();
    channel_ = grpc::CreateChannel(app_->grpc_address(), grpc::InsecureChannelCredentials());
    billing_ = v1::BillingService::NewStub(channel_);
    webhooks_ = v1::WebhookService::NewStub(channel_);
    notifications_ = v1::NotificationService::NewStub(channel_);
  }

  void TearDown() override {
    if (app_) app_->Shutdown(std::chrono::seconds(5));
  }

  std::string Token(auth::Role role, const std::string& tenant, int64_t ttl = 600,
                    const std::string& secret = kSecret) {
    return auth::SignToken(secret, {"someone@example.com", tenant, role, clock_.NowUnix() + ttl},
                           clock_.NowUnix());
  }

  // A context carrying `token` (none when empty) and a deadline.
  std::unique_ptr<grpc::ClientContext> Context(const std::string& token) {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (!token.empty()) context->AddMetadata("authorization", "Bearer " + token);
    return context;
  }

  grpc::Status GetSubscription(const std::string& token, const std::string& tenant,
                               v1::Subscription* out) {
    v1::GetSubscriptionRequest request;
    request.set_tenant_id(tenant);
    return billing_->GetSubscription(Context(token).get(), request, out);
  }

  common::SystemClock clock_;
  testing::TempDir dir_;
  void Store(const domain::Subscription& subscription) {
    app_->database().Transact("store", [&](db::UnitOfWork& unit) {
      unit.subscriptions().Upsert(subscription);
      unit.Commit();
    });
  }

  std::unique_ptr<app::ServerApp> app_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::BillingService::Stub> billing_;
  std::unique_ptr<v1::WebhookService::Stub> webhooks_;
  std::unique_ptr<v1::NotificationService::Stub> notifications_;
};

TEST_F(BillingGrpcTest, UnknownTenantIsNoneNotAnError) {
  v1::Subscription s;
  ASSERT_TRUE(GetSubscription(Token(auth::Role::kOperator, "*"), "acme", &s).ok());
  EXPECT_EQ(s.tenant_id(), "acme");
  EXPECT_EQ(s.status(), v1::SUBSCRIPTION_STATUS_NONE);
  EXPECT_EQ(s.plan(), v1::PLAN_UNSPECIFIED);
  EXPECT_FALSE(s.entitled());
}

TEST_F(BillingGrpcTest, ReturnsTheStoredSubscriptionToEveryRoleOfTheTenant) {
  domain::Subscription r;
  r.tenant_id = "acme";
  r.plan = domain::Plan::kFirm;
  r.status = domain::SubscriptionStatus::kTrialing;
  r.trial_end = 1'900'000'000;
  r.stripe_customer_id = "cus_acme";
  r.created_at = r.updated_at = 1'800'000'000;
  Store(r);

  for (auto [role, tenant] :
       {std::pair{auth::Role::kOwner, "acme"}, std::pair{auth::Role::kAdmin, "acme"},
        std::pair{auth::Role::kMember, "acme"}, std::pair{auth::Role::kService, "*"}}) {
    v1::Subscription s;
    const grpc::Status status = GetSubscription(Token(role, tenant), "acme", &s);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(s.plan(), v1::PLAN_FIRM);
    EXPECT_EQ(s.status(), v1::SUBSCRIPTION_STATUS_TRIALING);
    EXPECT_TRUE(s.entitled());
    EXPECT_EQ(s.trial_end().seconds(), 1'900'000'000);
    EXPECT_EQ(s.stripe_customer_id(), "cus_acme");
  }
}

// Reads that arrive together are answered together (one query for a batch of tenants): each
// call still gets its own tenant's answer, and a refused call does not disturb its neighbours.
TEST_F(BillingGrpcTest, ConcurrentReadsEachGetTheirOwnTenantsAnswer) {
  constexpr int kTenants = 40;
  constexpr int kCalls = 160;
  const auto tenant_of = [](int i) { return "t" + std::to_string(i % kTenants); };
  for (int i = 0; i < kTenants; i += 2) {  // odd tenants never subscribed
    domain::Subscription r;
    r.tenant_id = tenant_of(i);
    r.plan = domain::Plan::kPro;
    r.status = domain::SubscriptionStatus::kActive;
    r.stripe_customer_id = "cus_" + r.tenant_id;
    r.created_at = r.updated_at = 1'800'000'000;
    Store(r);
  }
  struct Call {
    grpc::ClientContext context;
    v1::Subscription reply;
    grpc::Status status;
    std::unique_ptr<grpc::ClientAsyncResponseReader<v1::Subscription>> reader;
  };
  const std::string operator_token = Token(auth::Role::kOperator, "*");
  const std::string other_tenant = Token(auth::Role::kOwner, "globex");
  grpc::CompletionQueue cq;
  std::vector<std::unique_ptr<Call>> calls;
  for (int i = 0; i < kCalls; ++i) {
    auto call = std::make_unique<Call>();
    call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    call->context.AddMetadata("authorization",
                              "Bearer " + (i % 10 == 3 ? other_tenant : operator_token));
    v1::GetSubscriptionRequest request;
    request.set_tenant_id(tenant_of(i));
    call->reader = billing_->AsyncGetSubscription(&call->context, request, &cq);
    call->reader->Finish(&call->reply, &call->status, call.get());
    calls.push_back(std::move(call));
  }
  for (int i = 0; i < kCalls; ++i) {
    void* tag = nullptr;
    bool ok = false;
    ASSERT_TRUE(cq.Next(&tag, &ok));
  }
  for (int i = 0; i < kCalls; ++i) {
    SCOPED_TRACE("call " + std::to_string(i));
    const Call& call = *calls[static_cast<size_t>(i)];
    if (i % 10 == 3) {
      EXPECT_EQ(call.status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
      continue;
    }
    ASSERT_TRUE(call.status.ok()) << call.status.error_message();
    EXPECT_EQ(call.reply.tenant_id(), tenant_of(i));
    if ((i % kTenants) % 2 == 0) {
      EXPECT_EQ(call.reply.status(), v1::SUBSCRIPTION_STATUS_ACTIVE);
      EXPECT_EQ(call.reply.stripe_customer_id(), "cus_" + tenant_of(i));
    } else {
      EXPECT_EQ(call.reply.status(), v1::SUBSCRIPTION_STATUS_NONE);
      EXPECT_EQ(call.reply.stripe_customer_id(), "");
    }
  }
  cq.Shutdown();
  void* tag = nullptr;
  bool ok = false;
  while (cq.Next(&tag, &ok)) {
  }
}

TEST_F(BillingGrpcTest, NoOrBadTokenIsUnauthenticated) {
  v1::Subscription s;
  EXPECT_EQ(GetSubscription("", "acme", &s).error_code(), grpc::StatusCode::UNAUTHENTICATED);

  auto context = Context("");
  context->AddMetadata("authorization", "Basic dXNlcjpwYXNz");
  v1::GetSubscriptionRequest request;
  request.set_tenant_id("acme");
  EXPECT_EQ(billing_->GetSubscription(context.get(), request, &s).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  const grpc::Status expired = GetSubscription(Token(auth::Role::kOperator, "*", -5), "acme", &s);
  EXPECT_EQ(expired.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(expired.error_message(), HasSubstr("expired"));

  const std::string forged = Token(auth::Role::kOperator, "*", 600, std::string(40, 'x'));
  EXPECT_EQ(GetSubscription(forged, "acme", &s).error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(BillingGrpcTest, AnotherTenantsTokenIsPermissionDenied) {
  v1::Subscription s;
  const grpc::Status status = GetSubscription(Token(auth::Role::kOwner, "globex"), "acme", &s);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(), HasSubstr("another tenant"));
}

TEST_F(BillingGrpcTest, BadTenantIdIsInvalidArgument) {
  v1::Subscription s;
  const std::string op = Token(auth::Role::kOperator, "*");
  EXPECT_EQ(GetSubscription(op, "", &s).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(GetSubscription(op, "a b", &s).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(GetSubscription(op, std::string(200, 'a'), &s).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(BillingGrpcTest, BillingConfigInStubMode) {
  v1::BillingConfig c;
  ASSERT_TRUE(
      billing_->GetBillingConfig(Context(Token(auth::Role::kMember, "acme")).get(), {}, &c).ok());
  EXPECT_TRUE(c.stub_mode());
  EXPECT_FALSE(c.test_mode());
  ASSERT_EQ(c.plans_size(), 3);
  for (const auto& plan : c.plans()) EXPECT_FALSE(plan.price_configured());
  EXPECT_EQ(billing_->GetBillingConfig(Context("").get(), {}, &c).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(BillingGrpcTest, BillingConfigInTestMode) {
  app_->Shutdown(std::chrono::seconds(1));
  common::Config config;
  config.stripe_secret_key = "sk_test_abc";
  config.stripe_price_starter = "price_starter_1";
  StartServer(config);
  v1::BillingConfig c;
  ASSERT_TRUE(
      billing_->GetBillingConfig(Context(Token(auth::Role::kService, "*")).get(), {}, &c).ok());
  EXPECT_FALSE(c.stub_mode());
  EXPECT_TRUE(c.test_mode());
  EXPECT_TRUE(c.plans(0).price_configured());
  EXPECT_EQ(c.plans(0).price_id(), "price_starter_1");
  EXPECT_FALSE(c.plans(1).price_configured());
}

TEST_F(BillingGrpcTest, ListSubscriptionsIsForOperatorsAndPaginates) {
  for (const char* tenant : {"a", "b", "c"}) {
    domain::Subscription r;
    r.tenant_id = tenant;
    r.status = domain::SubscriptionStatus::kActive;
    r.plan = domain::Plan::kStarter;
    Store(r);
  }
  v1::ListSubscriptionsRequest request;
  request.set_page_size(2);
  v1::ListSubscriptionsResponse page;
  ASSERT_TRUE(
      billing_->ListSubscriptions(Context(Token(auth::Role::kOperator, "*")).get(), request, &page)
          .ok());
  ASSERT_EQ(page.subscriptions_size(), 2);
  ASSERT_FALSE(page.next_page_token().empty());
  request.set_page_token(page.next_page_token());
  v1::ListSubscriptionsResponse last;
  ASSERT_TRUE(
      billing_->ListSubscriptions(Context(Token(auth::Role::kOperator, "*")).get(), request, &last)
          .ok());
  ASSERT_EQ(last.subscriptions_size(), 1);
  EXPECT_EQ(last.subscriptions(0).tenant_id(), "c");
  EXPECT_TRUE(last.next_page_token().empty());

  EXPECT_EQ(billing_->ListSubscriptions(Context(Token(auth::Role::kOwner, "a")).get(), {}, &page)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(BillingGrpcTest, StubModeCheckoutAndPortalAnswerLocallyAndAreAudited) {
  v1::CreateCheckoutSessionRequest checkout;
  checkout.set_tenant_id("acme");
  checkout.set_plan(v1::PLAN_PRO);
  v1::CreateCheckoutSessionResponse checkout_response;
  const grpc::Status as_owner = billing_->CreateCheckoutSession(
      Context(Token(auth::Role::kOwner, "acme")).get(), checkout, &checkout_response);
  ASSERT_TRUE(as_owner.ok()) << as_owner.error_message();
  EXPECT_TRUE(checkout_response.stub());
  EXPECT_THAT(checkout_response.checkout_url(), HasSubstr("/billing/stripe-not-configured"));
  EXPECT_THAT(checkout_response.session_id(), ::testing::StartsWith("stub_cs_"));
  EXPECT_EQ(billing_
                ->CreateCheckoutSession(Context(Token(auth::Role::kMember, "acme")).get(), checkout,
                                        &checkout_response)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  checkout.set_plan(v1::PLAN_UNSPECIFIED);
  EXPECT_EQ(billing_
                ->CreateCheckoutSession(Context(Token(auth::Role::kOwner, "acme")).get(), checkout,
                                        &checkout_response)
                .error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  v1::GetPortalLinkRequest portal;
  portal.set_tenant_id("acme");
  v1::GetPortalLinkResponse portal_response;
  ASSERT_TRUE(billing_
                  ->GetPortalLink(Context(Token(auth::Role::kOwner, "acme")).get(), portal,
                                  &portal_response)
                  .ok());
  EXPECT_TRUE(portal_response.stub());

  std::vector<db::AuditEntry> audit;
  app_->database().Read(
      "t", [&](db::UnitOfWork& unit) { audit = unit.audit().ListForTenant("acme", 10); });
  ASSERT_EQ(audit.size(), 2u);
  EXPECT_EQ(audit[0].action, "billing.portal_session.created");
  EXPECT_EQ(audit[1].action, "billing.checkout_session.created");
  EXPECT_EQ(audit[1].actor, "someone@example.com");
}

TEST_F(BillingGrpcTest, AccessIsCheckedBeforeTheRequestIsRead) {
  v1::EmitRequest emit;
  emit.set_tenant_id("acme");
  v1::EmitResponse emit_response;
  EXPECT_EQ(
      notifications_->Emit(Context(Token(auth::Role::kOwner, "acme")).get(), emit, &emit_response)
          .error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(
      notifications_->Emit(Context(Token(auth::Role::kService, "*")).get(), emit, &emit_response)
          .error_code(),
      grpc::StatusCode::INVALID_ARGUMENT);  // allowed, but no trigger is set

  v1::ListEventsResponse events;
  EXPECT_EQ(webhooks_->ListEvents(Context(Token(auth::Role::kAdmin, "acme")).get(), {}, &events)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // Without STRIPE_WEBHOOK_SECRET every delivery is refused as retryable, so Stripe keeps it.
  v1::IngestStripeEventResponse ingest;
  EXPECT_EQ(webhooks_->IngestStripeEvent(Context("").get(), {}, &ingest).error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

TEST_F(BillingGrpcTest, EventRpcsAreForOperators) {
  v1::GetEventRequest get;
  get.set_event_id("evt_missing");
  v1::Event event;
  EXPECT_EQ(webhooks_->GetEvent(Context(Token(auth::Role::kOperator, "*")).get(), get, &event)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(webhooks_->GetEvent(Context(Token(auth::Role::kOperator, "acme")).get(), get, &event)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::ReplayEventRequest replay;
  replay.set_event_id("evt_missing");
  EXPECT_EQ(webhooks_->ReplayEvent(Context(Token(auth::Role::kOwner, "acme")).get(), replay, &event)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(webhooks_->ReplayEvent(Context(Token(auth::Role::kService, "*")).get(), replay, &event)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(webhooks_->ReplayEvent(Context(Token(auth::Role::kOperator, "*")).get(), replay, &event)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
  replay.set_event_id("");
  EXPECT_EQ(webhooks_->ReplayEvent(Context(Token(auth::Role::kOperator, "*")).get(), replay, &event)
                .error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace paybell

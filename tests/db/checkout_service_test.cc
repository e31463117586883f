// CheckoutService's rules and the exact requests it sends Stripe (mocked), on both databases.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "server/billing/checkout.h"
#include "server/common/error.h"
#include "db/audit_repository.h"
#include "db/checkout_repository.h"
#include "db/migrations.h"
#include "db/subscription_repository.h"
#include "tests/mocks/mock_stripe_api.h"
#include "tests/support/db_backends.h"

namespace paybell::billing {
namespace {

using ::testing::_;
using ::testing::DoAll;
using testing::EngineNames;
using testing::Engines;
using testing::EngineTest;
using ::testing::HasSubstr;
using ::testing::Return;
using ::testing::SaveArg;

constexpr int64_t kNow = 1'800'000'000;
const auth::Principal kOwner{"ann@acme.test", "acme", auth::Role::kOwner, kNow + 600};

std::map<std::string, std::string> AsMap(const stripe::FormFields& form) {
  return {form.begin(), form.end()};
}

template <typename Engine>
class CheckoutServiceTest : public EngineTest<Engine> {
 protected:
  void SetUp() override {
    EngineTest<Engine>::SetUp();
    if (this->IsSkipped() || this->HasFatalFailure()) return;
    config_.stripe_secret_key = "sk_test_x";
    config_.stripe_price_pro = "price_pro_1";
    config_.app_url = "https://app.example.com";
    pool_ = std::make_unique<db::ConnectionPool>(this->database_->parsed(), 2);
    db::ApplyMigrations(*pool_, db::BuiltinMigrations(), kNow);
    subscriptions_ = std::make_unique<db::SociSubscriptionRepository>(*pool_);
    service_ =
        std::make_unique<CheckoutService>(*pool_, *subscriptions_, config_, clock_, &stripe_);
  }

  void StoreSubscription(const std::string& status, const std::string& customer) {
    db::SubscriptionRecord r;
    r.tenant_id = "acme";
    r.status = status;
    r.stripe_customer_id = customer;
    db::SociSubscriptionRepository(*pool_).Upsert(r);
  }

  common::ErrorCode CodeOf(const std::function<void()>& call) {
    try {
      call();
    } catch (const common::Error& e) {
      last_error_ = e.what();
      return e.code();
    }
    ADD_FAILURE() << "no error";
    return common::ErrorCode::kInternal;
  }

  common::Config config_;
  common::FakeClock clock_{kNow};
  ::testing::StrictMock<testing::MockStripeApi> stripe_;
  std::unique_ptr<db::ConnectionPool> pool_;
  std::unique_ptr<db::SociSubscriptionRepository> subscriptions_;
  std::unique_ptr<CheckoutService> service_;
  std::string last_error_;
};
TYPED_TEST_SUITE(CheckoutServiceTest, Engines, EngineNames);

TYPED_TEST(CheckoutServiceTest, SendsTheDesignedRequestAndRecordsTheSession) {
  this->StoreSubscription("canceled", "cus_old");  // a returning customer
  stripe::FormFields form;
  std::string key;
  EXPECT_CALL(this->stripe_, Post("/v1/checkout/sessions", _, _, _))
      .WillOnce(
          DoAll(SaveArg<1>(&form), SaveArg<2>(&key),
                Return(nlohmann::json{{"id", "cs_1"}, {"url", "https://checkout.test/cs_1"}})));
  const auto result =
      this->service_->CreateCheckoutSession(kOwner, "acme", v1::PLAN_PRO, "", "req-9");
  EXPECT_EQ(result.session_id, "cs_1");
  EXPECT_EQ(result.url, "https://checkout.test/cs_1");
  EXPECT_FALSE(result.stub);

  const auto fields = AsMap(form);
  EXPECT_EQ(fields.at("mode"), "subscription");
  EXPECT_EQ(fields.at("line_items[0][price]"), "price_pro_1");
  EXPECT_EQ(fields.at("line_items[0][quantity]"), "1");
  EXPECT_EQ(fields.at("client_reference_id"), "acme");
  EXPECT_EQ(fields.at("subscription_data[metadata][tenant_id]"), "acme");
  EXPECT_EQ(fields.at("subscription_data[metadata][plan]"), "pro");
  EXPECT_EQ(fields.at("customer"), "cus_old");
  EXPECT_EQ(fields.at("allow_promotion_codes"), "true");
  EXPECT_EQ(fields.count("discounts[0][promotion_code]"), 0u);
  EXPECT_EQ(fields.at("success_url"),
            "https://app.example.com/billing?checkout=success&session_id={CHECKOUT_SESSION_ID}");
  EXPECT_EQ(fields.at("cancel_url"), "https://app.example.com/billing?checkout=cancel");
  EXPECT_THAT(key, ::testing::StartsWith("paybell-checkout-"));

  std::string status;
  std::vector<db::AuditEntry> audit;
  this->pool_->Run("t", [&](soci::session& s) {
    status = db::checkout_sql::StatusOf(s, "cs_1");
    audit = db::audit_sql::ListForTenant(s, "acme", 10);
  });
  EXPECT_EQ(status, "open");
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0].action, "billing.checkout_session.created");
  EXPECT_EQ(audit[0].actor, "ann@acme.test");
  EXPECT_EQ(audit[0].request_id, "req-9");
}

TYPED_TEST(CheckoutServiceTest, EarlierOpenSessionIsExpiredAndAPaidOneBlocks) {
  EXPECT_CALL(this->stripe_, Post("/v1/checkout/sessions", _, _, _))
      .WillOnce(Return(nlohmann::json{{"id", "cs_old"}, {"url", "u1"}}))
      .WillOnce(Return(nlohmann::json{{"id", "cs_new"}, {"url", "u2"}}));
  this->service_->CreateCheckoutSession(kOwner, "acme", v1::PLAN_PRO, "", "");

  this->clock_.Advance(std::chrono::seconds(300));  // a later, different request
  EXPECT_CALL(this->stripe_, Get("/v1/checkout/sessions/cs_old", _, _))
      .WillOnce(Return(nlohmann::json{{"id", "cs_old"}, {"status", "open"}}));
  EXPECT_CALL(this->stripe_, Post("/v1/checkout/sessions/cs_old/expire", _, _, _))
      .WillOnce(Return(nlohmann::json{{"id", "cs_old"}, {"status", "expired"}}));
  this->service_->CreateCheckoutSession(kOwner, "acme", v1::PLAN_PRO, "", "");
  std::string old_status;
  this->pool_->Run("t",
                   [&](soci::session& s) { old_status = db::checkout_sql::StatusOf(s, "cs_old"); });
  EXPECT_EQ(old_status, "expired");

  this->clock_.Advance(std::chrono::seconds(300));
  EXPECT_CALL(this->stripe_, Get("/v1/checkout/sessions/cs_new", _, _))
      .WillOnce(Return(nlohmann::json{{"id", "cs_new"}, {"status", "complete"}}));
  EXPECT_EQ(this->CodeOf([&] {
    this->service_->CreateCheckoutSession(kOwner, "acme", v1::PLAN_PRO, "", "");
  }),
            common::ErrorCode::kFailedPrecondition);
  EXPECT_THAT(this->last_error_, HasSubstr("just paid"));
}

TYPED_TEST(CheckoutServiceTest, CouponBecomesAPromotionCode) {
  EXPECT_CALL(this->stripe_, Get("/v1/promotion_codes",
                                 stripe::FormFields{{"code", "WELCOME10"}, {"active", "true"}}, _))
      .WillOnce(Return(nlohmann::json{{"data", {{{"id", "promo_1"}, {"code", "WELCOME10"}}}}}));
  stripe::FormFields form;
  EXPECT_CALL(this->stripe_, Post("/v1/checkout/sessions", _, _, _))
      .WillOnce(DoAll(SaveArg<1>(&form), Return(nlohmann::json{{"id", "cs_2"}, {"url", "u"}})));
  this->service_->CreateCheckoutSession(kOwner, "acme", v1::PLAN_PRO, "WELCOME10", "");
  const auto fields = AsMap(form);
  EXPECT_EQ(fields.at("discounts[0][promotion_code]"), "promo_1");
  EXPECT_EQ(fields.count("allow_promotion_codes"), 0u);
  EXPECT_EQ(fields.count("customer"), 0u);  // no customer known yet
}

TYPED_TEST(CheckoutServiceTest, UnknownCouponIsInvalidArgument) {
  EXPECT_CALL(this->stripe_, Get("/v1/promotion_codes", _, _))
      .WillOnce(Return(nlohmann::json{{"object", "list"}, {"data", nlohmann::json::array()}}));
  EXPECT_EQ(this->CodeOf([&] {
    this->service_->CreateCheckoutSession(kOwner, "acme", v1::PLAN_PRO, "NOPE", "");
  }),
            common::ErrorCode::kInvalidArgument);
  EXPECT_THAT(this->last_error_, HasSubstr("coupon not found"));
}

TYPED_TEST(CheckoutServiceTest, PlanWithoutPriceNamesTheVariable) {
  EXPECT_EQ(this->CodeOf([&] {
    this->service_->CreateCheckoutSession(kOwner, "acme", v1::PLAN_FIRM, "", "");
  }),
            common::ErrorCode::kFailedPrecondition);
  EXPECT_THAT(this->last_error_, HasSubstr("STRIPE_PRICE_FIRM"));
}

TYPED_TEST(CheckoutServiceTest, LiveSubscriptionIsSentToThePortal) {
  for (const char* status : {"active", "trialing", "past_due"}) {
    this->StoreSubscription(status, "cus_1");
    EXPECT_EQ(this->CodeOf([&] {
      this->service_->CreateCheckoutSession(kOwner, "acme", v1::PLAN_PRO, "", "");
    }),
              common::ErrorCode::kFailedPrecondition)
        << status;
    EXPECT_THAT(this->last_error_, HasSubstr("portal"));
  }
}

TYPED_TEST(CheckoutServiceTest, BadPlanAndCouponAreRefusedBeforeStripe) {
  EXPECT_EQ(this->CodeOf([&] {
    this->service_->CreateCheckoutSession(kOwner, "acme", v1::PLAN_UNSPECIFIED, "", "");
  }),
            common::ErrorCode::kInvalidArgument);
  EXPECT_EQ(this->CodeOf([&] {
    this->service_->CreateCheckoutSession(kOwner, "acme", v1::PLAN_PRO, "bad coupon!", "");
  }),
            common::ErrorCode::kInvalidArgument);
}

TYPED_TEST(CheckoutServiceTest, PortalNeedsACustomer) {
  EXPECT_EQ(this->CodeOf([&] { this->service_->GetPortalLink(kOwner, "acme", ""); }),
            common::ErrorCode::kFailedPrecondition);
  EXPECT_THAT(this->last_error_, HasSubstr("no subscription yet"));

  this->StoreSubscription("active", "cus_1");
  stripe::FormFields form;
  EXPECT_CALL(this->stripe_, Post("/v1/billing_portal/sessions", _, _, _))
      .WillOnce(DoAll(SaveArg<1>(&form), Return(nlohmann::json{{"url", "https://portal.test/1"}})));
  const auto portal = this->service_->GetPortalLink(kOwner, "acme", "");
  EXPECT_EQ(portal.url, "https://portal.test/1");
  EXPECT_EQ(AsMap(form).at("customer"), "cus_1");
  EXPECT_EQ(AsMap(form).at("return_url"), "https://app.example.com/billing");
}

TYPED_TEST(CheckoutServiceTest, StubModeSendsNothing) {
  CheckoutService stub(*this->pool_, *this->subscriptions_, this->config_, this->clock_, nullptr);
  const auto checkout = stub.CreateCheckoutSession(kOwner, "acme", v1::PLAN_FIRM, "", "");
  EXPECT_TRUE(checkout.stub);
  EXPECT_EQ(checkout.url, "https://app.example.com/billing/stripe-not-configured?plan=firm");
  const auto portal = stub.GetPortalLink(kOwner, "acme", "");
  EXPECT_TRUE(portal.stub);
  // StrictMock: any call to Stripe would have failed the test.
}

}  // namespace
}  // namespace paybell::billing

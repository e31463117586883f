// CheckoutService's rules on gMock fakes of the unit of work and of Stripe: what it refuses
// before Stripe, what it sends, what it records, and that the tenant's claim is always given
// back. The same service against both real databases: tests/db/checkout_service_test.cc.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "server/billing/checkout.h"
#include "server/common/error.h"
#include "tests/mocks/mock_database.h"
#include "tests/mocks/mock_stripe_api.h"

namespace paybell::billing {
namespace {

using ::testing::_;
using ::testing::DoAll;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Return;
using ::testing::SaveArg;
using ::testing::StartsWith;
using ::testing::StrictMock;

constexpr int64_t kNow = 1'800'000'000;

class CheckoutRulesTest : public ::testing::Test {
 protected:
  CheckoutRulesTest() {
    config_.stripe_secret_key = "sk_test_x";
    config_.stripe_price_pro = "price_pro_1";
    config_.app_url = "https://app.example.com";
    ON_CALL(checkouts(), TryClaim(_, _, _, _)).WillByDefault(Return(true));
  }

  testing::MockSubscriptionRepository& subscriptions() { return db_.unit.subscriptions_; }
  testing::MockCheckoutRepository& checkouts() { return db_.unit.checkouts_; }
  testing::MockAuditLog& audit() { return db_.unit.audit_; }

  CheckoutResult Create(const auth::Principal& caller = Owner()) {
    return service_.CreateCheckoutSession(
        caller, "acme", domain::Plan::kPro, "", "req-1",
        std::chrono::steady_clock::now() + std::chrono::seconds(5));
  }

  static auth::Principal Owner() {
    auth::Principal p;
    p.subject = "ann@acme.test";
    p.tenant_id = "acme";
    p.role = auth::Role::kOwner;
    p.expires_at = kNow + 600;
    return p;
  }

  static domain::Subscription WithStatus(domain::SubscriptionStatus status) {
    domain::Subscription s;
    s.tenant_id = "acme";
    s.stripe_customer_id = "cus_1";
    s.stripe_subscription_id = "sub_1";
    s.status = status;
    return s;
  }

  common::Config config_;
  common::FakeClock clock_{kNow};
  testing::FakeDatabase db_;
  StrictMock<testing::MockStripeApi> stripe_;
  CheckoutService service_{db_, config_, clock_, &stripe_};
};

TEST_F(CheckoutRulesTest, ALiveSubscriptionNeverReachesStripe) {
  EXPECT_CALL(subscriptions(), Find("acme"))
      .WillRepeatedly(Return(WithStatus(domain::SubscriptionStatus::kUnpaid)));
  EXPECT_CALL(checkouts(), TryClaim(_, _, _, _)).Times(0);
  EXPECT_CALL(audit(), Append(_)).Times(0);
  try {
    Create();
    FAIL() << "checkout allowed";
  } catch (const common::Error& e) {
    EXPECT_EQ(e.code(), common::ErrorCode::kFailedPrecondition);
    EXPECT_THAT(e.what(), HasSubstr("unpaid"));
    EXPECT_THAT(e.what(), HasSubstr("portal"));
  }
}

TEST_F(CheckoutRulesTest, AWebhookLandingWhileWaitingForTheClaimStillBlocks) {
  // Not live when first read, live when read again under the claim.
  EXPECT_CALL(subscriptions(), Find("acme"))
      .WillOnce(Return(std::nullopt))
      .WillRepeatedly(Return(WithStatus(domain::SubscriptionStatus::kActive)));
  EXPECT_CALL(checkouts(), ReleaseClaim("acme", _));
  try {
    Create();
    FAIL() << "checkout allowed";
  } catch (const common::Error& e) {
    EXPECT_EQ(e.code(), common::ErrorCode::kFailedPrecondition);
  }
}

TEST_F(CheckoutRulesTest, CreatesRecordsAndGivesTheClaimBackInOneTransaction) {
  std::string claim;
  EXPECT_CALL(checkouts(), TryClaim("acme", _, kNow, kNow + 60))
      .WillOnce(DoAll(SaveArg<1>(&claim), Return(true)));
  EXPECT_CALL(stripe_, Post("/v1/checkout/sessions", _, StartsWith("paybell-checkout-"), _))
      .WillOnce(Return(nlohmann::json{{"id", "cs_1"}, {"url", "https://checkout.test/cs_1"}}));
  db::CheckoutSessionRecord recorded;
  EXPECT_CALL(checkouts(), Insert(_)).WillOnce(SaveArg<0>(&recorded));
  db::AuditEntry entry;
  EXPECT_CALL(audit(), Append(_)).WillOnce(SaveArg<0>(&entry));
  EXPECT_CALL(checkouts(), ReleaseClaim("acme", ::testing::Eq(std::ref(claim)))).Times(1);
  EXPECT_CALL(db_.unit, Commit()).Times(::testing::AtLeast(1));

  const CheckoutResult result = Create();
  EXPECT_EQ(result.session_id, "cs_1");
  EXPECT_EQ(recorded.session_id, "cs_1");
  EXPECT_EQ(recorded.plan, domain::Plan::kPro);
  EXPECT_EQ(entry.action, "billing.checkout_session.created");
  EXPECT_EQ(entry.actor, "ann@acme.test");
  EXPECT_EQ(entry.actor_role, "owner");
  EXPECT_EQ(entry.request_id, "req-1");
  EXPECT_EQ(db_.transactions, 2);  // take the claim; record, audit and give it back
}

TEST_F(CheckoutRulesTest, TheClaimIsGivenBackWhenStripeFails) {
  EXPECT_CALL(stripe_, Post("/v1/checkout/sessions", _, _, _))
      .WillOnce(::testing::Throw(
          common::Error(common::ErrorCode::kUnavailable, "cannot reach Stripe: timeout")));
  EXPECT_CALL(checkouts(), Insert(_)).Times(0);
  EXPECT_CALL(checkouts(), ReleaseClaim("acme", _)).Times(1);
  EXPECT_THROW(Create(), common::Error);
}

TEST_F(CheckoutRulesTest, ARepeatedRequestGetsTheSameOpenSessionWithoutStripe) {
  db::CheckoutSessionRecord open;
  open.session_id = "cs_1";
  open.url = "https://checkout.test/cs_1";
  open.status = domain::CheckoutStatus::kOpen;
  EXPECT_CALL(checkouts(), FindByIdempotencyKey("acme", StartsWith("paybell-checkout-")))
      .WillOnce(Return(open));
  EXPECT_CALL(checkouts(), Insert(_)).Times(0);
  EXPECT_CALL(checkouts(), ReleaseClaim("acme", _)).Times(1);
  const CheckoutResult result = Create();  // StrictMock: no Stripe call
  EXPECT_EQ(result.session_id, "cs_1");
  EXPECT_EQ(result.url, "https://checkout.test/cs_1");
}

// Another tab's checkout expired the session this request's key made: Stripe would replay that
// expired session for the key, so the request gets a key of its own.
TEST_F(CheckoutRulesTest, AClosedSessionUnderTheSameKeyMeansAFreshStripeKey) {
  db::CheckoutSessionRecord closed;
  closed.session_id = "cs_1";
  closed.idempotency_key = "paybell-checkout-k";
  closed.status = domain::CheckoutStatus::kExpired;
  std::string looked_up;
  EXPECT_CALL(checkouts(), FindByIdempotencyKey("acme", _))
      .WillOnce(DoAll(SaveArg<1>(&looked_up), Return(closed)));
  std::string sent;
  EXPECT_CALL(stripe_, Post("/v1/checkout/sessions", _, _, _))
      .WillOnce(DoAll(SaveArg<2>(&sent), Return(nlohmann::json{{"id", "cs_2"}, {"url", "u"}})));
  EXPECT_EQ(Create().session_id, "cs_2");
  EXPECT_THAT(sent, StartsWith(looked_up));
  EXPECT_NE(sent, looked_up);

  // Recording cs_2 failed (say), so the client retries: the same key goes to Stripe, which
  // answers with cs_2 instead of creating a second session nobody would expire.
  EXPECT_CALL(checkouts(), FindByIdempotencyKey("acme", _)).WillOnce(Return(closed));
  std::string resent;
  EXPECT_CALL(stripe_, Post("/v1/checkout/sessions", _, _, _))
      .WillOnce(DoAll(SaveArg<2>(&resent), Return(nlohmann::json{{"id", "cs_2"}, {"url", "u"}})));
  Create();
  EXPECT_EQ(resent, sent);
}

TEST_F(CheckoutRulesTest, AnEarlierSessionPaidWhileBeingExpiredRefusesTheNewOne) {
  EXPECT_CALL(checkouts(), ListOpen("acme", _))
      .WillOnce(Return(std::vector<db::OpenCheckout>{{"cs_old", "other-key"}}));
  EXPECT_CALL(stripe_, Get("/v1/checkout/sessions/cs_old", _, _))
      .WillOnce(Return(nlohmann::json{{"id", "cs_old"}, {"status", "open"}}))
      .WillOnce(Return(nlohmann::json{{"id", "cs_old"}, {"status", "complete"}}));
  // Stripe refuses to expire a session that is not open any more.
  EXPECT_CALL(stripe_, Post("/v1/checkout/sessions/cs_old/expire", _, _, _))
      .WillOnce(::testing::Throw(common::Error(common::ErrorCode::kInvalidArgument,
                                               "Stripe: Only open sessions can be expired")));
  EXPECT_CALL(checkouts(), SetStatus("cs_old", domain::CheckoutStatus::kComplete));
  try {
    Create();
    FAIL() << "a second checkout was created beside a paid one";
  } catch (const common::Error& e) {
    EXPECT_EQ(e.code(), common::ErrorCode::kFailedPrecondition);
    EXPECT_THAT(e.what(), HasSubstr("just paid"));
  }
}

TEST_F(CheckoutRulesTest, ASessionStripeDoesNotSayIsClosedIsNotRecordedClosed) {
  EXPECT_CALL(checkouts(), ListOpen("acme", _))
      .WillOnce(Return(std::vector<db::OpenCheckout>{{"cs_old", "other-key"}}));
  EXPECT_CALL(stripe_, Get("/v1/checkout/sessions/cs_old", _, _))
      .WillOnce(Return(nlohmann::json{{"id", "cs_old"}}));  // no status
  EXPECT_CALL(checkouts(), SetStatus(_, _)).Times(0);
  try {
    Create();
    FAIL() << "a second checkout was created beside one that may be open";
  } catch (const common::Error& e) {
    EXPECT_EQ(e.code(), common::ErrorCode::kUnavailable);
  }
}

TEST_F(CheckoutRulesTest, AnOperatorActingForTheOwnerIsOnRecord) {
  auth::Principal via_paybellctl = Owner();
  via_paybellctl.subject = "paybellctl";
  via_paybellctl.actor = "dana (paybellctl)";
  EXPECT_CALL(stripe_, Post("/v1/checkout/sessions", _, _, _))
      .WillOnce(Return(nlohmann::json{{"id", "cs_1"}, {"url", "u"}}));
  db::AuditEntry entry;
  EXPECT_CALL(audit(), Append(_)).WillOnce(SaveArg<0>(&entry));
  Create(via_paybellctl);
  EXPECT_EQ(entry.actor, "dana (paybellctl)");
  EXPECT_EQ(entry.actor_role, "operator");
  EXPECT_THAT(entry.detail, HasSubstr(R"("on_behalf_of":{"role":"owner","sub":"paybellctl"})"));
  EXPECT_THAT(entry.detail, Not(HasSubstr("sk_test")));
}

}  // namespace
}  // namespace paybell::billing

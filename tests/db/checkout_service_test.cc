// CheckoutService's rules and the exact requests it sends Stripe (mocked), on both databases.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "db/migrations.h"
#include "db/soci_database.h"
#include "server/billing/checkout.h"
#include "server/common/error.h"
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

using domain::Plan;

constexpr int64_t kNow = 1'800'000'000;
const auth::Principal kOwner{"ann@acme.test", "acme", auth::Role::kOwner, kNow + 600, ""};

std::map<std::string, std::string> AsMap(const stripe::FormFields& form) {
  return {form.begin(), form.end()};
}

// Stripe's checkout sessions as far as one-open-session-per-tenant is concerned: create, read,
// expire. Creating takes a moment, as it does at Stripe, so concurrent requests overlap.
class FakeCheckoutStripe final : public stripe::StripeApi {
 public:
  nlohmann::json Post(const std::string& path, const stripe::FormFields&, const std::string& key,
                      stripe::Deadline) override {
    if (path == "/v1/checkout/sessions") {
      std::this_thread::sleep_for(std::chrono::milliseconds(30));
      std::lock_guard<std::mutex> lock(mu_);
      if (auto it = by_key_.find(key); it != by_key_.end()) return Session(it->second);
      const std::string id = "cs_" + std::to_string(++created_);
      status_[id] = "open";
      by_key_[key] = id;
      return Session(id);
    }
    const std::string prefix = "/v1/checkout/sessions/";
    const std::string id = path.substr(prefix.size(), path.find("/expire") - prefix.size());
    std::lock_guard<std::mutex> lock(mu_);
    if (status_[id] == "open") status_[id] = "expired";
    return Session(id);
  }
  nlohmann::json Get(const std::string& path, const stripe::FormFields&,
                     stripe::Deadline) override {
    std::lock_guard<std::mutex> lock(mu_);
    return Session(path.substr(std::string("/v1/checkout/sessions/").size()));
  }
  int Open() {
    std::lock_guard<std::mutex> lock(mu_);
    int open = 0;
    for (const auto& [id, status] : status_) open += status == "open" ? 1 : 0;
    return open;
  }

 private:
  nlohmann::json Session(const std::string& id) {
    return {{"id", id}, {"url", "https://checkout.test/" + id}, {"status", status_[id]}};
  }
  std::mutex mu_;
  int created_ = 0;
  std::map<std::string, std::string> status_;
  std::map<std::string, std::string> by_key_;
};

template <typename Engine>
class CheckoutServiceTest : public EngineTest<Engine> {
 protected:
  void SetUp() override {
    EngineTest<Engine>::SetUp();
    if (this->IsSkipped() || this->HasFatalFailure()) return;
    config_.stripe_secret_key = "sk_test_x";
    config_.stripe_price_pro = "price_pro_1";
    config_.app_url = "https://app.example.com";
    db_ = std::make_unique<db::SociDatabase>(this->database_->parsed(), 4);
    db::ApplyMigrations(db_->pool(), db::BuiltinMigrations(), kNow);
    service_ = std::make_unique<CheckoutService>(*db_, config_, clock_, &stripe_);
  }

  void StoreSubscription(const std::string& status, const std::string& customer) {
    domain::Subscription r;
    r.tenant_id = "acme";
    r.status = *domain::StatusFromWord(status);
    r.stripe_customer_id = customer;
    r.stripe_subscription_id = "sub_old";
    db_->Transact("t", [&](db::UnitOfWork& unit) {
      unit.subscriptions().Upsert(r);
      unit.Commit();
    });
  }

  CheckoutResult Create(Plan plan, const std::string& coupon = "",
                        const std::string& request_id = "") {
    return service_->CreateCheckoutSession(kOwner, "acme", plan, coupon, request_id, Deadline());
  }

  static stripe::Deadline Deadline() {
    return std::chrono::steady_clock::now() + std::chrono::seconds(20);
  }

  std::string StatusOf(const std::string& session_id) {
    std::optional<domain::CheckoutStatus> status;
    db_->Read("t", [&](db::UnitOfWork& unit) { status = unit.checkouts().StatusOf(session_id); });
    return status ? std::string(domain::CheckoutStatusWord(*status)) : "";
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
  std::unique_ptr<db::SociDatabase> db_;
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
  const auto result = this->Create(Plan::kPro, "", "req-9");
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

  std::vector<db::AuditEntry> audit;
  this->db_->Read("t",
                  [&](db::UnitOfWork& unit) { audit = unit.audit().ListForTenant("acme", 10); });
  EXPECT_EQ(this->StatusOf("cs_1"), "open");
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0].action, "billing.checkout_session.created");
  EXPECT_EQ(audit[0].actor, "ann@acme.test");
  EXPECT_EQ(audit[0].request_id, "req-9");
}

TYPED_TEST(CheckoutServiceTest, EarlierOpenSessionIsExpiredAndAPaidOneBlocks) {
  EXPECT_CALL(this->stripe_, Post("/v1/checkout/sessions", _, _, _))
      .WillOnce(Return(nlohmann::json{{"id", "cs_old"}, {"url", "u1"}}))
      .WillOnce(Return(nlohmann::json{{"id", "cs_new"}, {"url", "u2"}}));
  this->Create(Plan::kPro);

  this->clock_.Advance(std::chrono::seconds(300));  // a later, different request
  EXPECT_CALL(this->stripe_, Get("/v1/checkout/sessions/cs_old", _, _))
      .WillOnce(Return(nlohmann::json{{"id", "cs_old"}, {"status", "open"}}));
  EXPECT_CALL(this->stripe_, Post("/v1/checkout/sessions/cs_old/expire", _, _, _))
      .WillOnce(Return(nlohmann::json{{"id", "cs_old"}, {"status", "expired"}}));
  this->Create(Plan::kPro);
  EXPECT_EQ(this->StatusOf("cs_old"), "expired");

  this->clock_.Advance(std::chrono::seconds(300));
  EXPECT_CALL(this->stripe_, Get("/v1/checkout/sessions/cs_new", _, _))
      .WillOnce(Return(nlohmann::json{{"id", "cs_new"}, {"status", "complete"}}));
  EXPECT_EQ(this->CodeOf([&] { this->Create(Plan::kPro); }),
            common::ErrorCode::kFailedPrecondition);
  EXPECT_THAT(this->last_error_, HasSubstr("just paid"));
}

// Two tabs, two replicas or a double click with different plans: each request lists the open
// sessions, creates one and records it while holding the tenant's claim, so exactly one
// session is left open whatever the interleaving.
TYPED_TEST(CheckoutServiceTest, ConcurrentCheckoutsLeaveOneOpenSession) {
  this->config_.stripe_price_starter = "price_starter_1";
  this->config_.stripe_price_firm = "price_firm_1";
  FakeCheckoutStripe stripe;
  // Two services over two pools: two replicas on one database.
  db::SociDatabase other_replica(this->database_->parsed(), 4);
  CheckoutService first(*this->db_, this->config_, this->clock_, &stripe);
  CheckoutService second(other_replica, this->config_, this->clock_, &stripe);
  const Plan plans[] = {Plan::kStarter, Plan::kPro, Plan::kFirm};
  std::vector<std::thread> threads;
  std::atomic<int> created{0};
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&, i] {
      CheckoutService& service = i % 2 == 0 ? first : second;
      try {
        service.CreateCheckoutSession(kOwner, "acme", plans[i % 3], "", "", this->Deadline());
        ++created;
      } catch (const common::Error& e) {
        ADD_FAILURE() << e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), 6);
  EXPECT_EQ(stripe.Open(), 1);
  int open_recorded = 0;
  this->db_->pool().Run("t", [&](db::Connection& c) {
    c.session() << "SELECT COUNT(*) FROM checkout_sessions WHERE status = 'open'",
        soci::into(open_recorded);
  });
  EXPECT_EQ(open_recorded, 1);
}

TYPED_TEST(CheckoutServiceTest, AClaimHeldByAnotherRequestMakesTheNextOneWaitThenGiveUp) {
  bool taken = false;
  this->db_->Transact("t", [&](db::UnitOfWork& unit) {
    taken = unit.checkouts().TryClaim("acme", "someone-else", kNow, kNow + 60);
    unit.Commit();
  });
  ASSERT_TRUE(taken);
  // Its holder taking it again (a unit of work run again after its commit's answer was lost)
  // keeps it; anyone else does not get it.
  bool again = false, other = true;
  this->db_->Transact("t", [&](db::UnitOfWork& unit) {
    again = unit.checkouts().TryClaim("acme", "someone-else", kNow, kNow + 60);
    other = unit.checkouts().TryClaim("acme", "another", kNow, kNow + 60);
    unit.Commit();
  });
  EXPECT_TRUE(again);
  EXPECT_FALSE(other);
  // The other holder never finishes: this request waits (bounded by its deadline) and is told
  // to try again; Stripe is not called.
  EXPECT_EQ(this->CodeOf([&] {
    this->service_->CreateCheckoutSession(
        kOwner, "acme", Plan::kPro, "", "",
        std::chrono::steady_clock::now() + std::chrono::milliseconds(300));
  }),
            common::ErrorCode::kUnavailable);
  EXPECT_THAT(this->last_error_, HasSubstr("being created"));
  // An expired claim (its holder died) is taken over.
  this->clock_.Advance(std::chrono::seconds(61));
  EXPECT_CALL(this->stripe_, Post("/v1/checkout/sessions", _, _, _))
      .WillOnce(Return(nlohmann::json{{"id", "cs_1"}, {"url", "u"}}));
  EXPECT_EQ(this->Create(Plan::kPro).session_id, "cs_1");
}

// Stripe replays a stored answer for an Idempotency-Key for 24 hours: a 5xx stored for the
// expire call must not block the tenant's checkout for a day.
TYPED_TEST(CheckoutServiceTest, TheExpireKeyChangesWithTheWindowAndAnUnknownSessionIsGone) {
  EXPECT_CALL(this->stripe_, Post("/v1/checkout/sessions", _, _, _))
      .WillOnce(Return(nlohmann::json{{"id", "cs_old"}, {"url", "u1"}}));
  this->Create(Plan::kPro);

  // A later request finds cs_old open; Stripe answers the expire with a 5xx it will replay
  // for that key. The user tries again three minutes later.
  this->config_.stripe_price_firm = "price_firm_1";
  this->clock_.Advance(std::chrono::seconds(300));
  std::vector<std::string> expire_keys;
  auto record_key = [&](const std::string&, const stripe::FormFields&, const std::string& key,
                        stripe::Deadline) { expire_keys.push_back(key); };
  EXPECT_CALL(this->stripe_, Get("/v1/checkout/sessions/cs_old", _, _))
      .WillRepeatedly(Return(nlohmann::json{{"id", "cs_old"}, {"status", "open"}}));
  EXPECT_CALL(this->stripe_, Post("/v1/checkout/sessions/cs_old/expire", _, _, _))
      .WillOnce(DoAll(::testing::Invoke(record_key),
                      ::testing::Throw(common::Error(common::ErrorCode::kUnavailable,
                                                     "Stripe is unavailable (HTTP 500)"))))
      .WillOnce(DoAll(::testing::Invoke(record_key),
                      Return(nlohmann::json{{"id", "cs_old"}, {"status", "expired"}})));
  EXPECT_EQ(this->CodeOf([&] { this->Create(Plan::kFirm); }), common::ErrorCode::kUnavailable);
  this->clock_.Advance(std::chrono::seconds(180));
  EXPECT_CALL(this->stripe_, Post("/v1/checkout/sessions", _, _, _))
      .WillOnce(Return(nlohmann::json{{"id", "cs_new"}, {"url", "u2"}}));
  EXPECT_EQ(this->Create(Plan::kFirm).session_id, "cs_new");
  ASSERT_EQ(expire_keys.size(), 2u);
  EXPECT_NE(expire_keys[0], expire_keys[1]);  // Stripe runs the second expire for real
  EXPECT_EQ(this->StatusOf("cs_old"), "expired");

  // A session Stripe does not know (the key switched between test and live mode) is gone,
  // and does not block the tenant.
  this->clock_.Advance(std::chrono::seconds(300));
  EXPECT_CALL(this->stripe_, Get("/v1/checkout/sessions/cs_new", _, _))
      .WillOnce(::testing::Throw(
          common::Error(common::ErrorCode::kNotFound, "Stripe: No such checkout.session")));
  EXPECT_CALL(this->stripe_, Post("/v1/checkout/sessions", _, _, _))
      .WillOnce(Return(nlohmann::json{{"id", "cs_3"}, {"url", "u3"}}));
  EXPECT_EQ(this->Create(Plan::kPro).session_id, "cs_3");
  EXPECT_EQ(this->StatusOf("cs_new"), "expired");
}

TYPED_TEST(CheckoutServiceTest, CouponBecomesAPromotionCode) {
  EXPECT_CALL(this->stripe_, Get("/v1/promotion_codes",
                                 stripe::FormFields{{"code", "WELCOME10"}, {"active", "true"}}, _))
      .WillOnce(Return(nlohmann::json{{"data", {{{"id", "promo_1"}, {"code", "WELCOME10"}}}}}));
  stripe::FormFields form;
  EXPECT_CALL(this->stripe_, Post("/v1/checkout/sessions", _, _, _))
      .WillOnce(DoAll(SaveArg<1>(&form), Return(nlohmann::json{{"id", "cs_2"}, {"url", "u"}})));
  this->Create(Plan::kPro, "WELCOME10");
  const auto fields = AsMap(form);
  EXPECT_EQ(fields.at("discounts[0][promotion_code]"), "promo_1");
  EXPECT_EQ(fields.count("allow_promotion_codes"), 0u);
  EXPECT_EQ(fields.count("customer"), 0u);  // no customer known yet
}

TYPED_TEST(CheckoutServiceTest, UnknownCouponIsInvalidArgument) {
  EXPECT_CALL(this->stripe_, Get("/v1/promotion_codes", _, _))
      .WillOnce(Return(nlohmann::json{{"object", "list"}, {"data", nlohmann::json::array()}}));
  EXPECT_EQ(this->CodeOf([&] { this->Create(Plan::kPro, "NOPE"); }),
            common::ErrorCode::kInvalidArgument);
  EXPECT_THAT(this->last_error_, HasSubstr("coupon not found"));
}

TYPED_TEST(CheckoutServiceTest, PlanWithoutPriceNamesTheVariable) {
  EXPECT_EQ(this->CodeOf([&] { this->Create(Plan::kFirm); }),
            common::ErrorCode::kFailedPrecondition);
  EXPECT_THAT(this->last_error_, HasSubstr("STRIPE_PRICE_FIRM"));
}

TYPED_TEST(CheckoutServiceTest, LiveSubscriptionIsSentToThePortal) {
  // Every status the webhook rules would not let a new subscription replace.
  for (const char* status : {"active", "trialing", "past_due", "unpaid", "paused", "incomplete"}) {
    this->StoreSubscription(status, "cus_1");
    EXPECT_EQ(this->CodeOf([&] { this->Create(Plan::kPro); }),
              common::ErrorCode::kFailedPrecondition)
        << status;
    EXPECT_THAT(this->last_error_, HasSubstr(status));
  }
}

TYPED_TEST(CheckoutServiceTest, BadPlanAndCouponAreRefusedBeforeStripe) {
  EXPECT_EQ(this->CodeOf([&] { this->Create(Plan::kNone); }), common::ErrorCode::kInvalidArgument);
  EXPECT_EQ(this->CodeOf([&] { this->Create(Plan::kPro, "bad coupon!"); }),
            common::ErrorCode::kInvalidArgument);
}

TYPED_TEST(CheckoutServiceTest, PortalNeedsACustomer) {
  EXPECT_EQ(
      this->CodeOf([&] { this->service_->GetPortalLink(kOwner, "acme", "", this->Deadline()); }),
      common::ErrorCode::kFailedPrecondition);
  EXPECT_THAT(this->last_error_, HasSubstr("no subscription yet"));

  this->StoreSubscription("active", "cus_1");
  stripe::FormFields form;
  EXPECT_CALL(this->stripe_, Post("/v1/billing_portal/sessions", _, _, _))
      .WillOnce(DoAll(SaveArg<1>(&form), Return(nlohmann::json{{"url", "https://portal.test/1"}})));
  const auto portal = this->service_->GetPortalLink(kOwner, "acme", "", this->Deadline());
  EXPECT_EQ(portal.url, "https://portal.test/1");
  EXPECT_EQ(AsMap(form).at("customer"), "cus_1");
  EXPECT_EQ(AsMap(form).at("return_url"), "https://app.example.com/billing");
}

TYPED_TEST(CheckoutServiceTest, StubModeSendsNothing) {
  CheckoutService stub(*this->db_, this->config_, this->clock_, nullptr);
  const auto checkout =
      stub.CreateCheckoutSession(kOwner, "acme", Plan::kFirm, "", "", this->Deadline());
  EXPECT_TRUE(checkout.stub);
  EXPECT_EQ(checkout.url, "https://app.example.com/billing/stripe-not-configured?plan=firm");
  const auto portal = stub.GetPortalLink(kOwner, "acme", "", this->Deadline());
  EXPECT_TRUE(portal.stub);
  // StrictMock: any call to Stripe would have failed the test.
}

}  // namespace
}  // namespace paybell::billing

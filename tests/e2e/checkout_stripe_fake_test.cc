// Checkout and portal against stripe-fake over real HTTP, through the real server, ending with
// the fake's hosted Pay button delivering signed webhooks back to Paybell.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "paybell/v1/billing.grpc.pb.h"
#include "server/app/embedded_server.h"
#include "server/auth/jwt.h"
#include "tests/support/process.h"
#include "tests/support/stripe_fake.h"
#include "tests/support/temp_dir.h"

namespace paybell {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::StartsWith;

const std::string kApiKey = "sk_test_fake_e2e_0123456789";
const std::string kWebhookSecret = "whsec_fake_e2e";
const std::string kJwtSecret(40, 'j');

// stripe-fake on a free port; stopped when the test ends.
class StripeFake : public testing::StripeFake {
 public:
  StripeFake() : testing::StripeFake(kApiKey, kWebhookSecret) {}
};

class CheckoutStripeFakeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    app_ = StartServer(kApiKey);
    auto res = fake_.client().Post(
        "/_webhook?url=http://127.0.0.1:" + std::to_string(app_->http_port()) + "/stripe/webhook",
        "", "text/plain");
    ASSERT_TRUE(res && res->status == 200);
  }
  void TearDown() override {
    for (auto& app : apps_) app->Shutdown(std::chrono::seconds(5));
  }

  app::EmbeddedServer* StartServer(const std::string& stripe_key) {
    auto dir = std::make_unique<testing::TempDir>();
    common::Config config;
    config.grpc_listen = "127.0.0.1:0";
    config.http_listen = "127.0.0.1:0";
    config.data_dir = dir->path();
    config.database = common::ParseDatabaseUrl("sqlite:" + dir->File("paybell.db"));
    config.jwt_secret = kJwtSecret;
    config.stripe_secret_key = stripe_key;
    config.stripe_api_base = fake_.base();
    config.stripe_price_starter = "price_fake_starter";
    config.stripe_price_pro = "price_fake_pro";  // firm deliberately unconfigured
    config.stripe_webhook_secrets = {kWebhookSecret};
    config.app_url = "http://app.test";
    config.app_url_set = true;
    dirs_.push_back(std::move(dir));
    apps_.push_back(std::make_unique<app::EmbeddedServer>(config, clock_));
    apps_.back()->Start();
    return apps_.back().get();
  }

  std::unique_ptr<v1::BillingService::Stub> Billing(app::EmbeddedServer* app = nullptr) {
    return v1::BillingService::NewStub(grpc::CreateChannel((app ? app : app_)->grpc_address(),
                                                           grpc::InsecureChannelCredentials()));
  }

  std::unique_ptr<grpc::ClientContext> As(auth::Role role, const std::string& tenant) {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    context->AddMetadata(
        "authorization",
        "Bearer " + auth::SignToken(kJwtSecret,
                                    {"ann@" + tenant, tenant, role, clock_.NowUnix() + 600},
                                    clock_.NowUnix()));
    return context;
  }

  grpc::Status Checkout(const std::string& tenant, v1::Plan plan, const std::string& coupon,
                        v1::CreateCheckoutSessionResponse* out,
                        auth::Role role = auth::Role::kOwner, const std::string& as_tenant = "") {
    v1::CreateCheckoutSessionRequest request;
    request.set_tenant_id(tenant);
    request.set_plan(plan);
    request.set_coupon_code(coupon);
    return Billing()->CreateCheckoutSession(As(role, as_tenant.empty() ? tenant : as_tenant).get(),
                                            request, out);
  }

  // The form of the last POST /v1/checkout/sessions the fake received.
  json LastCheckoutRequest() {
    json last;
    for (const auto& r : fake_.Requests()) {
      if (r["method"] == "POST" && r["path"] == "/v1/checkout/sessions") last = r;
    }
    return last;
  }

  common::SystemClock clock_;
  StripeFake fake_;
  std::vector<std::unique_ptr<testing::TempDir>> dirs_;
  std::vector<std::unique_ptr<app::EmbeddedServer>> apps_;
  app::EmbeddedServer* app_ = nullptr;
};

TEST_F(CheckoutStripeFakeTest, CheckoutWithoutCouponAllowsPromotionCodes) {
  v1::CreateCheckoutSessionResponse out;
  const grpc::Status status = Checkout("acme", v1::PLAN_PRO, "", &out);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_FALSE(out.stub());
  EXPECT_THAT(out.session_id(), StartsWith("cs_test_fake_"));
  EXPECT_EQ(out.checkout_url(), fake_.base() + "/checkout/" + out.session_id());
  const json request = LastCheckoutRequest();
  EXPECT_EQ(request["authorized"], true);
  EXPECT_EQ(request["stripe_version"], stripe::kStripeApiVersion);
  EXPECT_THAT(request["idempotency_key"].get<std::string>(), StartsWith("paybell-checkout-"));
  const json& form = request["form"];
  EXPECT_EQ(form["mode"], "subscription");
  EXPECT_EQ(form["line_items[0][price]"], "price_fake_pro");
  EXPECT_EQ(form["line_items[0][quantity]"], "1");
  EXPECT_EQ(form["client_reference_id"], "acme");
  EXPECT_EQ(form["subscription_data[metadata][tenant_id]"], "acme");
  EXPECT_EQ(form["subscription_data[metadata][plan]"], "pro");
  EXPECT_EQ(form["allow_promotion_codes"], "true");
  EXPECT_EQ(form["success_url"],
            "http://app.test/billing?checkout=success&session_id={CHECKOUT_SESSION_ID}");
  EXPECT_EQ(form["cancel_url"], "http://app.test/billing?checkout=cancel");
}

TEST_F(CheckoutStripeFakeTest, CouponIsSentAsItsPromotionCode) {
  v1::CreateCheckoutSessionResponse out;
  const grpc::Status status = Checkout("acme", v1::PLAN_STARTER, "WELCOME10", &out);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const json form = LastCheckoutRequest()["form"];
  EXPECT_EQ(form["discounts[0][promotion_code]"], "promo_fake_welcome10");
  EXPECT_FALSE(form.contains("allow_promotion_codes"));
}

TEST_F(CheckoutStripeFakeTest, UnknownCouponAndUnpricedPlanAreRefused) {
  v1::CreateCheckoutSessionResponse out;
  const grpc::Status coupon = Checkout("acme", v1::PLAN_PRO, "NOSUCHCODE", &out);
  EXPECT_EQ(coupon.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(coupon.error_message(), HasSubstr("coupon not found"));
  const grpc::Status firm = Checkout("acme", v1::PLAN_FIRM, "", &out);
  EXPECT_EQ(firm.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(firm.error_message(), HasSubstr("STRIPE_PRICE_FIRM"));
  EXPECT_TRUE(LastCheckoutRequest().is_null());  // neither reached Stripe's checkout endpoint
}

TEST_F(CheckoutStripeFakeTest, Stripe503TwiceThenSuccessCreatesOneSessionWithOneKey) {
  ASSERT_TRUE(fake_.client().Post("/_fail?status=503&count=2", "", "text/plain"));
  v1::CreateCheckoutSessionResponse out;
  const grpc::Status status = Checkout("acme", v1::PLAN_PRO, "", &out);
  ASSERT_TRUE(status.ok()) << status.error_message();
  std::vector<int> statuses;
  std::set<std::string> keys;
  for (const auto& r : fake_.Requests()) {
    if (r["path"] != "/v1/checkout/sessions") continue;
    statuses.push_back(r["status"]);
    keys.insert(r["idempotency_key"].get<std::string>());
  }
  EXPECT_THAT(statuses, ::testing::ElementsAre(503, 503, 200));
  EXPECT_EQ(keys.size(), 1u);
  // Only one session exists: the stored answer was replayed, nothing created twice.
  auto created = fake_.client().Get("/v1/checkout/sessions/" + out.session_id(),
                                    {{"Authorization", "Bearer " + kApiKey}});
  ASSERT_TRUE(created);
  EXPECT_EQ(created->status, 200);
  const std::string id = out.session_id();
  const std::string next =
      id.substr(0, id.rfind('_') + 1) + std::to_string(std::stoi(id.substr(id.rfind('_') + 1)) + 1);
  auto none =
      fake_.client().Get("/v1/checkout/sessions/" + next, {{"Authorization", "Bearer " + kApiKey}});
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 404);
}

TEST_F(CheckoutStripeFakeTest, KeyStillInUseAtStripeIsRetried) {
  // 409: Stripe is still working on a request with this Idempotency-Key.
  ASSERT_TRUE(fake_.client().Post("/_fail?status=409&count=1", "", "text/plain"));
  v1::CreateCheckoutSessionResponse out;
  const grpc::Status status = Checkout("acme", v1::PLAN_STARTER, "", &out);
  ASSERT_TRUE(status.ok()) << status.error_message();
  std::vector<int> statuses;
  for (const auto& r : fake_.Requests()) {
    if (r["path"] == "/v1/checkout/sessions") statuses.push_back(r["status"]);
  }
  EXPECT_THAT(statuses, ::testing::ElementsAre(409, 200));
}

json FakeSession(StripeFake& fake, const std::string& id) {
  auto res =
      fake.client().Get("/v1/checkout/sessions/" + id, {{"Authorization", "Bearer " + kApiKey}});
  return res ? json::parse(res->body) : json();
}

TEST_F(CheckoutStripeFakeTest, ANewCheckoutExpiresTheTenantsEarlierOpenOne) {
  v1::CreateCheckoutSessionResponse pro, again, starter;
  ASSERT_TRUE(Checkout("acme", v1::PLAN_PRO, "", &pro).ok());
  // A double click is the same request: same session, nothing expired.
  ASSERT_TRUE(Checkout("acme", v1::PLAN_PRO, "", &again).ok());
  EXPECT_EQ(again.session_id(), pro.session_id());
  EXPECT_EQ(FakeSession(fake_, pro.session_id())["status"], "open");

  // Another plan (another tab): the first session can no longer be paid.
  ASSERT_TRUE(Checkout("acme", v1::PLAN_STARTER, "", &starter).ok());
  EXPECT_NE(starter.session_id(), pro.session_id());
  EXPECT_EQ(FakeSession(fake_, pro.session_id())["status"], "expired");
  auto pay_old = fake_.client().Post("/checkout/" + pro.session_id() + "/pay", "",
                                     "application/x-www-form-urlencoded");
  ASSERT_TRUE(pay_old);
  EXPECT_EQ(pay_old->status, 409);
  EXPECT_EQ(FakeSession(fake_, starter.session_id())["status"], "open");
}

TEST_F(CheckoutStripeFakeTest, APaidCheckoutNotYetActivatedBlocksAnother) {
  // The payment's webhooks have not reached Paybell yet (the endpoint is down).
  ASSERT_TRUE(
      fake_.client().Post("/_webhook?url=http://127.0.0.1:1/stripe/webhook", "", "text/plain"));
  v1::CreateCheckoutSessionResponse first, second;
  ASSERT_TRUE(Checkout("acme", v1::PLAN_PRO, "", &first).ok());
  auto paid = fake_.client().Post("/checkout/" + first.session_id() + "/pay", "",
                                  "application/x-www-form-urlencoded");
  ASSERT_TRUE(paid);
  EXPECT_EQ(paid->status, 303);
  const grpc::Status status = Checkout("acme", v1::PLAN_STARTER, "", &second);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("was just paid"));
}

TEST_F(CheckoutStripeFakeTest, RejectedKeyIsFailedPrecondition) {
  app::EmbeddedServer* wrong = StartServer("sk_test_wrong_key_0000000000");
  v1::CreateCheckoutSessionRequest request;
  request.set_tenant_id("acme");
  request.set_plan(v1::PLAN_PRO);
  v1::CreateCheckoutSessionResponse out;
  const grpc::Status status =
      Billing(wrong)->CreateCheckoutSession(As(auth::Role::kOwner, "acme").get(), request, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("Stripe key rejected"));
  EXPECT_THAT(status.error_message(), ::testing::Not(HasSubstr("sk_test_wrong")));
}

TEST_F(CheckoutStripeFakeTest, OnlyTheTenantsOwnerMayCheckOut) {
  v1::CreateCheckoutSessionResponse out;
  EXPECT_EQ(Checkout("acme", v1::PLAN_PRO, "", &out, auth::Role::kAdmin).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Checkout("acme", v1::PLAN_PRO, "", &out, auth::Role::kOwner, "globex").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(LastCheckoutRequest().is_null());
}

TEST_F(CheckoutStripeFakeTest, PayButtonMakesTheSubscriptionActiveThenPortalAndNoSecondCheckout) {
  v1::GetPortalLinkRequest portal;
  portal.set_tenant_id("acme");
  v1::GetPortalLinkResponse portal_out;
  const grpc::Status before =
      Billing()->GetPortalLink(As(auth::Role::kOwner, "acme").get(), portal, &portal_out);
  EXPECT_EQ(before.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(before.error_message(), HasSubstr("no subscription yet"));

  v1::CreateCheckoutSessionResponse out;
  ASSERT_TRUE(Checkout("acme", v1::PLAN_PRO, "", &out).ok());
  const std::string path = "/checkout/" + out.session_id();
  auto page = fake_.client().Get(path);
  ASSERT_TRUE(page);
  EXPECT_THAT(page->body, HasSubstr("Pay"));
  auto paid = fake_.client().Post(path + "/pay", "", "application/x-www-form-urlencoded");
  ASSERT_TRUE(paid);
  EXPECT_EQ(paid->status, 303);
  EXPECT_EQ(paid->get_header_value("Location"),
            "http://app.test/billing?checkout=success&session_id=" + out.session_id());
  // Delivered in Stripe's order, each accepted: link the tenant, record the subscription, then
  // its first invoice, paid.
  const json deliveries = json::parse(fake_.client().Get("/_deliveries")->body);
  std::vector<std::string> types;
  for (const auto& delivery : deliveries) {
    types.push_back(delivery["type"]);
    EXPECT_EQ(delivery["status"], 200) << delivery.dump();
  }
  EXPECT_THAT(types, ::testing::ElementsAre("checkout.session.completed",
                                            "customer.subscription.created", "invoice.paid"));

  v1::GetSubscriptionRequest get;
  get.set_tenant_id("acme");
  v1::Subscription sub;
  ASSERT_TRUE(Billing()->GetSubscription(As(auth::Role::kMember, "acme").get(), get, &sub).ok());
  EXPECT_EQ(sub.status(), v1::SUBSCRIPTION_STATUS_ACTIVE);
  EXPECT_EQ(sub.plan(), v1::PLAN_PRO);
  EXPECT_TRUE(sub.entitled());
  EXPECT_THAT(sub.stripe_customer_id(), StartsWith("cus_fake_"));
  EXPECT_TRUE(sub.has_current_period_end());

  // invoice.paid was applied: the first invoice is listed, paid at Pro's price (no coupon), with
  // links to the pages stripe-fake serves for it.
  v1::ListInvoicesRequest list;
  list.set_tenant_id("acme");
  v1::ListInvoicesResponse invoices;
  ASSERT_TRUE(Billing()->ListInvoices(As(auth::Role::kMember, "acme").get(), list, &invoices).ok());
  ASSERT_EQ(invoices.invoices_size(), 1);
  const v1::Invoice& invoice = invoices.invoices(0);
  EXPECT_THAT(invoice.invoice_id(), StartsWith("in_fake_"));
  EXPECT_EQ(invoice.status(), v1::INVOICE_STATUS_PAID);
  EXPECT_EQ(invoice.amount_due(), 4900);
  EXPECT_EQ(invoice.amount_paid(), 4900);
  EXPECT_EQ(invoice.currency(), "usd");
  EXPECT_FALSE(invoice.number().empty());
  EXPECT_EQ(invoice.stripe_customer_id(), sub.stripe_customer_id());
  EXPECT_THAT(invoice.stripe_subscription_id(), StartsWith("sub_fake_"));
  EXPECT_EQ(invoice.period_start().seconds(), sub.current_period_start().seconds());
  EXPECT_EQ(invoice.period_end().seconds(), sub.current_period_end().seconds());
  const std::string invoice_path = "/invoices/" + invoice.invoice_id();
  EXPECT_EQ(invoice.hosted_invoice_url(), fake_.base() + invoice_path);
  EXPECT_EQ(invoice.invoice_pdf(), fake_.base() + invoice_path + "/pdf");
  auto invoice_page = fake_.client().Get(invoice_path);
  ASSERT_TRUE(invoice_page);
  EXPECT_EQ(invoice_page->status, 200);
  EXPECT_THAT(invoice_page->body, HasSubstr("paid"));
  auto pdf = fake_.client().Get(invoice_path + "/pdf");
  ASSERT_TRUE(pdf);
  EXPECT_EQ(pdf->status, 200);
  EXPECT_FALSE(pdf->body.empty());

  // Live now: checkout points to the portal, and the portal works.
  const grpc::Status again = Checkout("acme", v1::PLAN_STARTER, "", &out);
  EXPECT_EQ(again.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(again.error_message(), HasSubstr("portal"));
  const grpc::Status after =
      Billing()->GetPortalLink(As(auth::Role::kOwner, "acme").get(), portal, &portal_out);
  ASSERT_TRUE(after.ok()) << after.error_message();
  EXPECT_THAT(portal_out.url(), StartsWith(fake_.base() + "/portal/bps_fake_"));
  EXPECT_FALSE(portal_out.stub());
}

}  // namespace
}  // namespace paybell

#include "server/webhooks/stripe_event.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/support/stripe_events.h"

namespace paybell::webhooks {
namespace {

using testing::ApiShape;
using testing::SubscriptionSpec;

class BothShapes : public ::testing::TestWithParam<ApiShape> {};
INSTANTIATE_TEST_SUITE_P(Shapes, BothShapes,
                         ::testing::Values(ApiShape::kCurrent, ApiShape::kOlder),
                         [](const auto& param_info) {
                           return param_info.param == ApiShape::kCurrent ? "Current" : "Older";
                         });

TEST_P(BothShapes, SubscriptionEvents) {
  SubscriptionSpec spec;
  spec.plan = "pro";
  spec.trial_end = 1'800'100'000;
  spec.cancel_at_period_end = true;
  const StripeEvent e = ParseStripeEvent(
      testing::EventPayload("evt_9", "customer.subscription.updated", 1'800'000'050,
                            testing::SubscriptionObject(spec, GetParam())));
  EXPECT_EQ(e.id, "evt_9");
  EXPECT_EQ(e.kind, EventKind::kSubscriptionChange);
  EXPECT_EQ(e.created, 1'800'000'050);
  EXPECT_EQ(e.metadata_tenant_id, "acme");
  EXPECT_EQ(e.metadata_plan, "pro");
  EXPECT_EQ(e.subscription_id, "sub_1");
  EXPECT_EQ(e.customer_id, "cus_1");
  ASSERT_TRUE(e.state.has_value());
  EXPECT_EQ(e.state->status, "active");
  EXPECT_EQ(e.state->price_id, "price_pro_1");
  EXPECT_EQ(e.state->current_period_start, 1'800'000'000);
  EXPECT_EQ(e.state->current_period_end, 1'802'592'000);
  EXPECT_TRUE(e.state->cancel_at_period_end);
  EXPECT_EQ(e.state->trial_end, 1'800'100'000);
  EXPECT_FALSE(e.state->canceled_at.has_value());
}

TEST_P(BothShapes, InvoiceEvents) {
  const StripeEvent e = ParseStripeEvent(
      testing::EventPayload("evt_in", "invoice.payment_failed", 1,
                            testing::InvoiceObject("sub_7", "cus_7", "acme", GetParam())));
  EXPECT_EQ(e.kind, EventKind::kInvoicePaymentFailed);
  EXPECT_EQ(e.subscription_id, "sub_7");
  EXPECT_EQ(e.customer_id, "cus_7");
  EXPECT_EQ(e.metadata_tenant_id, "acme");
  EXPECT_FALSE(e.state.has_value());
}

TEST(StripeEventTest, CheckoutSessionCompleted) {
  const StripeEvent e = ParseStripeEvent(
      testing::EventPayload("evt_cs", "checkout.session.completed", 1,
                            testing::CheckoutSessionObject("cs_1", "acme", "cus_1", "sub_1")));
  EXPECT_EQ(e.kind, EventKind::kCheckoutCompleted);
  EXPECT_EQ(e.client_reference_id, "acme");
  EXPECT_EQ(e.checkout_session_id, "cs_1");
  EXPECT_EQ(e.subscription_id, "sub_1");
}

TEST(StripeEventTest, ExpandedIdsAreRead) {
  nlohmann::json session = testing::CheckoutSessionObject("cs_1", "acme", "", "");
  session["customer"] = {{"id", "cus_x"}, {"object", "customer"}};
  session["subscription"] = {{"id", "sub_x"}, {"object", "subscription"}};
  const StripeEvent e =
      ParseStripeEvent(testing::EventPayload("evt", "checkout.session.completed", 1, session));
  EXPECT_EQ(e.customer_id, "cus_x");
  EXPECT_EQ(e.subscription_id, "sub_x");
}

TEST(StripeEventTest, TheRepositorysSubscriptionFixtureParses) {
  std::ifstream in(std::string(PAYBELL_FIXTURES_DIR) + "/subscription.json");
  ASSERT_TRUE(in.good());
  std::stringstream raw;
  raw << in.rdbuf();
  const StripeEvent e = ParseStripeEvent(testing::EventPayload(
      "evt_f", "customer.subscription.created", 1, nlohmann::json::parse(raw.str())));
  ASSERT_TRUE(e.state.has_value());
  EXPECT_EQ(e.state->status, "active");
  EXPECT_TRUE(e.state->current_period_start.has_value());  // from items.data[0]
  EXPECT_FALSE(e.state->price_id.empty());
}

TEST(StripeEventTest, UnhandledTypes) {
  EXPECT_EQ(KindOfType("customer.created"), EventKind::kUnhandled);
  EXPECT_EQ(KindOfType("customer.subscription.trial_will_end"), EventKind::kSubscriptionChange);
  EXPECT_EQ(KindOfType("invoice.paid"), EventKind::kInvoicePaid);
}

TEST(StripeEventTest, MalformedPayloads) {
  for (const char* payload : {"", "not json", "[]", "{}", R"({"id":"evt_1","type":"x"})",
                              R"({"id":"evt_1","created":1})", R"({"id":5,"type":"x","created":1})",
                              R"({"id":"evt_1","type":"x","created":"yesterday"})"}) {
    EXPECT_THROW(ParseStripeEvent(payload), MalformedEvent) << payload;
  }
}

}  // namespace
}  // namespace paybell::webhooks

#include "server/webhooks/stripe_event.h"

#include <gtest/gtest.h>

#include <cstdint>
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

TEST_P(BothShapes, InvoiceEventsCarryTheInvoiceSummary) {
  testing::InvoiceSpec spec;
  spec.id = "in_42";
  spec.subscription = "sub_7";
  spec.customer = "cus_7";
  spec.tenant_id = "acme";
  spec.status = "paid";
  spec.number = "ACME-0042";
  spec.amount_due = 4900;
  spec.amount_paid = 4900;
  spec.currency = "eur";
  spec.created = 1'800'000'100;
  for (const char* type :
       {"invoice.paid", "invoice.payment_failed", "invoice.payment_action_required",
        "invoice.finalized", "invoice.voided"}) {
    SCOPED_TRACE(type);
    const StripeEvent e = ParseStripeEvent(testing::EventPayload(
        "evt_in", type, 1'800'000'200, testing::InvoiceObject(spec, GetParam())));
    EXPECT_EQ(e.subscription_id, "sub_7");
    EXPECT_EQ(e.customer_id, "cus_7");
    EXPECT_EQ(e.metadata_tenant_id, "acme");
    ASSERT_TRUE(e.invoice.has_value());
    EXPECT_EQ(e.invoice->id, "in_42");
    EXPECT_EQ(e.invoice->number, "ACME-0042");
    EXPECT_EQ(e.invoice->status, "paid");
    EXPECT_EQ(e.invoice->amount_due, 4900);
    EXPECT_EQ(e.invoice->amount_paid, 4900);
    EXPECT_EQ(e.invoice->currency, "eur");
    EXPECT_EQ(e.invoice->created, 1'800'000'100);
    // The billed period is the line's, not the invoice's own (the period just ended).
    EXPECT_EQ(e.invoice->period_start, 1'800'000'000);
    EXPECT_EQ(e.invoice->period_end, 1'802'592'000);
    EXPECT_EQ(e.invoice->hosted_invoice_url, "https://invoice.stripe.com/i/acct_1/test_in_1");
    EXPECT_EQ(e.invoice->invoice_pdf, "https://pay.stripe.com/invoice/acct_1/test_in_1/pdf");
  }
}

TEST(StripeEventTest, InvoicePeriodSpansTheLinesElseTheInvoicesOwn) {
  nlohmann::json invoice = testing::InvoiceObject(testing::InvoiceSpec{}, ApiShape::kCurrent);
  nlohmann::json proration = invoice["lines"]["data"][0];
  proration["period"] = {{"start", 1'799'000'000}, {"end", 1'800'000'000}};
  invoice["lines"]["data"].push_back(proration);
  StripeEvent e = ParseStripeEvent(testing::EventPayload("evt_1", "invoice.finalized", 1, invoice));
  EXPECT_EQ(e.invoice->period_start, 1'799'000'000);
  EXPECT_EQ(e.invoice->period_end, 1'802'592'000);

  invoice.erase("lines");
  e = ParseStripeEvent(testing::EventPayload("evt_1", "invoice.finalized", 1, invoice));
  EXPECT_EQ(e.invoice->period_start, 1'800'000'000 - 2'592'000);
  EXPECT_EQ(e.invoice->period_end, 1'800'000'000);
}

TEST(StripeEventTest, TheSharedInvoiceFixtureParses) {
  std::ifstream in(std::string(PAYBELL_FIXTURES_DIR) + "/invoice.json");
  ASSERT_TRUE(in.good());
  std::stringstream raw;
  raw << in.rdbuf();
  const StripeEvent e = ParseStripeEvent(
      testing::EventPayload("evt_f", "invoice.finalized", 1, nlohmann::json::parse(raw.str())));
  EXPECT_EQ(e.kind, EventKind::kInvoiceFinalized);
  EXPECT_EQ(e.subscription_id, "subscription");  // parent.subscription_details
  EXPECT_EQ(e.customer_id, "cus_QXg1o8vcGmoR32");
  ASSERT_TRUE(e.invoice.has_value());
  EXPECT_EQ(e.invoice->id, "in_1Pgc6tB7WZ01zgkWu9fdqL6I");
  EXPECT_EQ(e.invoice->status, "draft");
  EXPECT_EQ(e.invoice->number, "");  // null for a draft
  EXPECT_EQ(e.invoice->amount_due, 1000);
  EXPECT_EQ(e.invoice->amount_paid, 0);
  EXPECT_EQ(e.invoice->currency, "usd");
  EXPECT_EQ(e.invoice->created, 1234567890);
  EXPECT_EQ(e.invoice->period_start, 1721954054);  // from lines.data[0].period
  EXPECT_EQ(e.invoice->hosted_invoice_url, "");
  EXPECT_EQ(e.invoice->invoice_pdf, "");
}

// What no real invoice holds is refused at the boundary, like an over-long event id: nothing
// is stored, and no oversized string reaches billing_invoices.
TEST(StripeEventTest, InvoiceValuesOutOfBoundsAreMalformed) {
  const nlohmann::json good = testing::InvoiceObject(testing::InvoiceSpec{}, ApiShape::kCurrent);
  for (const auto& [field, value] :
       {std::pair<std::string, nlohmann::json>{"id", std::string(256, 'i')},
        {"number", std::string(65, 'n')},
        {"status", std::string(65, 's')},
        {"currency", std::string(65, 'c')},
        {"hosted_invoice_url", "https://invoice.stripe.com/" + std::string(2048, 'x')},
        {"invoice_pdf", "https://pay.stripe.com/" + std::string(2048, 'x')},
        {"amount_due", -1},
        {"amount_paid", -100}}) {
    SCOPED_TRACE(field);
    nlohmann::json invoice = good;
    invoice[field] = value;
    EXPECT_THROW(ParseStripeEvent(testing::EventPayload("evt_1", "invoice.paid", 1, invoice)),
                 MalformedEvent);
  }
  nlohmann::json far = good;
  far["lines"]["data"][0]["period"]["end"] = INT64_MAX;
  const StripeEvent e = ParseStripeEvent(testing::EventPayload("evt_1", "invoice.paid", 100, far));
  EXPECT_THROW(ValidateEventTimes(e, 1'800'000'000, 300), MalformedEvent);
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
  EXPECT_EQ(KindOfType("invoice.finalized"), EventKind::kInvoiceFinalized);
  EXPECT_EQ(KindOfType("invoice.voided"), EventKind::kInvoiceVoided);
  EXPECT_EQ(KindOfType("invoice.created"), EventKind::kUnhandled);
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

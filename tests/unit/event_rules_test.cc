#include "server/webhooks/event_rules.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/stripe_events.h"

namespace paybell::webhooks {
namespace {

using testing::ApiShape;
using ::testing::HasSubstr;
using testing::SubscriptionSpec;

constexpr int64_t kNow = 1'800'001'000;
const PlanPrices kPrices{"price_starter_1", "price_pro_1", "price_firm_1"};

StripeEvent SubscriptionEvent(const std::string& id, const std::string& type, int64_t created,
                              SubscriptionSpec spec = {}) {
  return ParseStripeEvent(testing::EventPayload(
      id, type, created, testing::SubscriptionObject(spec, ApiShape::kCurrent)));
}

// The row after applying `event` to `current`; fails the test unless it was applied.
db::SubscriptionRecord Applied(const StripeEvent& event,
                               const std::optional<db::SubscriptionRecord>& current) {
  const EventDecision d = DecideEvent(event, "acme", current, kPrices, kNow);
  EXPECT_EQ(d.outcome, "applied") << d.error;
  EXPECT_TRUE(d.write.has_value());
  return d.write.value_or(db::SubscriptionRecord{});
}

TEST(EventRulesTest, CreatedMakesTheRow) {
  const auto row = Applied(SubscriptionEvent("evt_1", "customer.subscription.created", 100), {});
  EXPECT_EQ(row.tenant_id, "acme");
  EXPECT_EQ(row.status, "active");
  EXPECT_EQ(row.plan, "pro");  // from the price id
  EXPECT_EQ(row.stripe_subscription_id, "sub_1");
  EXPECT_EQ(row.stripe_customer_id, "cus_1");
  EXPECT_EQ(row.last_event_created, 100);
  EXPECT_EQ(row.last_event_id, "evt_1");
  EXPECT_EQ(row.created_at, kNow);
}

TEST(EventRulesTest, MetadataPlanWinsOverPrice) {
  SubscriptionSpec spec;
  spec.plan = "firm";
  EXPECT_EQ(Applied(SubscriptionEvent("evt_1", "customer.subscription.created", 1, spec), {}).plan,
            "firm");
}

TEST(EventRulesTest, UnknownPriceKeepsThePlanKnownBefore) {
  auto row = Applied(SubscriptionEvent("evt_1", "customer.subscription.created", 1), {});
  SubscriptionSpec spec;
  spec.price = "price_unknown";
  EXPECT_EQ(Applied(SubscriptionEvent("evt_2", "customer.subscription.updated", 2, spec), row).plan,
            "pro");
}

TEST(EventRulesTest, OlderEventIsStale) {
  const auto row = Applied(SubscriptionEvent("evt_new", "customer.subscription.updated", 200), {});
  SubscriptionSpec past_due;
  past_due.status = "past_due";
  const EventDecision d =
      DecideEvent(SubscriptionEvent("evt_old", "customer.subscription.updated", 199, past_due),
                  "acme", row, kPrices, kNow);
  EXPECT_EQ(d.outcome, "stale");
  EXPECT_THAT(d.error, HasSubstr("evt_new"));
  EXPECT_FALSE(d.write.has_value());
}

TEST(EventRulesTest, SameSecondLaterArrivalApplies) {
  const auto row = Applied(SubscriptionEvent("evt_a", "customer.subscription.updated", 200), {});
  SubscriptionSpec past_due;
  past_due.status = "past_due";
  EXPECT_EQ(Applied(SubscriptionEvent("evt_b", "customer.subscription.updated", 200, past_due), row)
                .status,
            "past_due");
}

TEST(EventRulesTest, DeletedIsNotRevivedByALateUpdate) {
  SubscriptionSpec canceled;
  canceled.status = "canceled";
  canceled.canceled_at = 1'800'000'300;
  const auto row =
      Applied(SubscriptionEvent("evt_del", "customer.subscription.deleted", 300, canceled), {});
  EXPECT_EQ(row.status, "canceled");
  // Older update: stale by time.
  EXPECT_EQ(DecideEvent(SubscriptionEvent("evt_upd_old", "customer.subscription.updated", 250),
                        "acme", row, kPrices, kNow)
                .outcome,
            "stale");
  // Same second, delivered after: still not revived, canceled is final.
  const EventDecision same =
      DecideEvent(SubscriptionEvent("evt_upd_same", "customer.subscription.updated", 300), "acme",
                  row, kPrices, kNow);
  EXPECT_EQ(same.outcome, "stale");
  EXPECT_THAT(same.error, HasSubstr("final"));
}

TEST(EventRulesTest, NewSubscriptionReplacesAFinishedOneButNotALiveOne) {
  SubscriptionSpec canceled;
  canceled.status = "canceled";
  const auto old_row =
      Applied(SubscriptionEvent("evt_1", "customer.subscription.deleted", 100, canceled), {});
  SubscriptionSpec fresh;
  fresh.id = "sub_2";
  const auto new_row =
      Applied(SubscriptionEvent("evt_2", "customer.subscription.created", 150, fresh), old_row);
  EXPECT_EQ(new_row.stripe_subscription_id, "sub_2");
  EXPECT_EQ(new_row.status, "active");
  EXPECT_EQ(new_row.created_at, old_row.created_at);

  // A late event of the old subscription cannot touch the new live one.
  const EventDecision late =
      DecideEvent(SubscriptionEvent("evt_3", "customer.subscription.deleted", 500, canceled),
                  "acme", new_row, kPrices, kNow);
  EXPECT_EQ(late.outcome, "stale");
  EXPECT_THAT(late.error, HasSubstr("sub_2"));
}

TEST(EventRulesTest, LateCreatedDoesNotRollBackTheSameSecondsUpdate) {
  // Stripe stamps created (incomplete) and updated (active) in the same second and may deliver
  // updated first.
  SubscriptionSpec active;
  const auto row =
      Applied(SubscriptionEvent("evt_upd", "customer.subscription.updated", 200, active), {});
  SubscriptionSpec incomplete;
  incomplete.status = "incomplete";
  const EventDecision d =
      DecideEvent(SubscriptionEvent("evt_cre", "customer.subscription.created", 200, incomplete),
                  "acme", row, kPrices, kNow);
  EXPECT_EQ(d.outcome, "stale");
}

TEST(EventRulesTest, OldEventOfAnEarlierSubscriptionCannotReviveTheTenant) {
  SubscriptionSpec a;
  a.id = "sub_a";
  a.status = "canceled";
  auto row = Applied(SubscriptionEvent("evt_a_del", "customer.subscription.deleted", 100, a), {});
  SubscriptionSpec b;
  b.id = "sub_b";
  b.status = "incomplete_expired";
  row = Applied(SubscriptionEvent("evt_b", "customer.subscription.updated", 300, b), row);
  SubscriptionSpec a_active = a;
  a_active.status = "active";
  const EventDecision retried =
      DecideEvent(SubscriptionEvent("evt_a_upd", "customer.subscription.updated", 90, a_active),
                  "acme", row, kPrices, kNow);
  EXPECT_EQ(retried.outcome, "stale");
}

TEST(EventRulesTest, CheckoutLinksIdsWithoutDowngrading) {
  const StripeEvent checkout = ParseStripeEvent(
      testing::EventPayload("evt_cs", "checkout.session.completed", 50,
                            testing::CheckoutSessionObject("cs_1", "acme", "cus_1", "sub_1")));
  const auto linked = Applied(checkout, {});
  EXPECT_EQ(linked.status, "incomplete");
  EXPECT_EQ(linked.stripe_customer_id, "cus_1");
  EXPECT_EQ(linked.stripe_subscription_id, "sub_1");
  EXPECT_FALSE(linked.last_event_created.has_value());

  // The subscription's own event arrived first: checkout keeps its state.
  const auto active = Applied(SubscriptionEvent("evt_1", "customer.subscription.created", 60), {});
  const auto after = Applied(checkout, active);
  EXPECT_EQ(after.status, "active");
  EXPECT_EQ(after.last_event_id, "evt_1");
}

TEST(EventRulesTest, InvoicePaymentFailedAsksForANotification) {
  const auto active = Applied(SubscriptionEvent("evt_1", "customer.subscription.created", 60), {});
  const StripeEvent failed = ParseStripeEvent(
      testing::EventPayload("evt_f", "invoice.payment_failed", 70,
                            testing::InvoiceObject("sub_1", "cus_1", "acme", ApiShape::kCurrent)));
  const EventDecision d = DecideEvent(failed, "acme", active, kPrices, kNow);
  EXPECT_EQ(d.outcome, "applied");
  EXPECT_TRUE(d.payment_failed);
  EXPECT_FALSE(d.write.has_value());  // the status moves with customer.subscription.updated
}

TEST(EventRulesTest, UnmatchedAndIgnored) {
  const auto unmatched = DecideEvent(SubscriptionEvent("evt_1", "customer.subscription.created", 1),
                                     "", std::nullopt, kPrices, kNow);
  EXPECT_EQ(unmatched.outcome, "unmatched");
  EXPECT_THAT(unmatched.error, HasSubstr("cus_1"));
  const StripeEvent other =
      ParseStripeEvent(testing::EventPayload("evt_2", "customer.created", 1, {{"id", "cus_1"}}));
  EXPECT_EQ(DecideEvent(other, "acme", std::nullopt, kPrices, kNow).outcome, "ignored");
}

TEST(EventRulesTest, UnknownStatusFails) {
  SubscriptionSpec odd;
  odd.status = "weird";
  const auto d = DecideEvent(SubscriptionEvent("evt_1", "customer.subscription.updated", 1, odd),
                             "acme", std::nullopt, kPrices, kNow);
  EXPECT_EQ(d.outcome, "failed");
  EXPECT_THAT(d.error, HasSubstr("weird"));
}

TEST(PlanPricesTest, MapsConfiguredPricesOnly) {
  EXPECT_EQ(kPrices.PlanForPrice("price_firm_1"), "firm");
  EXPECT_EQ(kPrices.PlanForPrice("price_other"), "");
  EXPECT_EQ(PlanPrices{}.PlanForPrice(""), "");
}

}  // namespace
}  // namespace paybell::webhooks

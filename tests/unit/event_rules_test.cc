#include "server/webhooks/event_rules.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/stripe_events.h"

namespace paybell::webhooks {
namespace {

using testing::ApiShape;
using ::testing::HasSubstr;
using testing::SubscriptionSpec;

using domain::EventOutcome;
using domain::Plan;
using domain::Subscription;
using domain::SubscriptionStatus;

constexpr int64_t kNow = 1'800'001'000;

// Words read better in expectations and failure messages than enum values.
std::string Word(EventOutcome o) { return std::string(domain::OutcomeWord(o)); }
std::string Word(SubscriptionStatus s) { return std::string(domain::StatusWord(s)); }
std::string Word(Plan p) { return std::string(domain::PlanWord(p)); }
std::string Word(const std::optional<Plan>& p) { return p ? Word(*p) : "(none)"; }
const PlanPrices kPrices{"price_starter_1", "price_pro_1", "price_firm_1"};

StripeEvent SubscriptionEvent(const std::string& id, const std::string& type, int64_t created,
                              SubscriptionSpec spec = {}) {
  return ParseStripeEvent(testing::EventPayload(
      id, type, created, testing::SubscriptionObject(spec, ApiShape::kCurrent)));
}

// The row after applying `event` to `current`; fails the test unless it was applied.
Subscription Applied(const StripeEvent& event, const std::optional<Subscription>& current) {
  const EventDecision d = DecideEvent(event, "acme", current, kPrices, kNow);
  EXPECT_EQ(Word(d.outcome), "applied") << d.error;
  EXPECT_TRUE(d.write.has_value());
  return d.write.value_or(Subscription{});
}

TEST(EventRulesTest, CreatedMakesTheRow) {
  const auto row = Applied(SubscriptionEvent("evt_1", "customer.subscription.created", 100), {});
  EXPECT_EQ(row.tenant_id, "acme");
  EXPECT_EQ(Word(row.status), "active");
  EXPECT_EQ(Word(row.plan), "pro");  // from the price id
  EXPECT_EQ(row.stripe_subscription_id, "sub_1");
  EXPECT_EQ(row.stripe_customer_id, "cus_1");
  EXPECT_EQ(row.last_event_created, 100);
  EXPECT_EQ(row.last_event_id, "evt_1");
  EXPECT_EQ(row.created_at, kNow);
}

// The customer portal changes the price and never the metadata checkout wrote: the configured
// price decides, or a Starter→Pro upgrade would stay Starter.
TEST(EventRulesTest, PriceDecidesThePlanAfterAPortalUpgrade) {
  SubscriptionSpec starter;
  starter.plan = "starter";  // metadata written at checkout
  starter.price = "price_starter_1";
  const auto row =
      Applied(SubscriptionEvent("evt_1", "customer.subscription.created", 1, starter), {});
  EXPECT_EQ(Word(row.plan), "starter");
  SubscriptionSpec upgraded = starter;
  upgraded.price = "price_pro_1";  // the portal's change; metadata still says starter
  const EventDecision d =
      DecideEvent(SubscriptionEvent("evt_2", "customer.subscription.updated", 2, upgraded), "acme",
                  row, kPrices, kNow);
  ASSERT_TRUE(d.write.has_value());
  EXPECT_EQ(Word(d.write->plan), "pro");
  EXPECT_EQ(d.plan_source, PlanSource::kPrice);
}

TEST(EventRulesTest, MetadataPlanOnlyNamesAnUnknownPrice) {
  SubscriptionSpec spec;
  spec.plan = "firm";
  spec.price = "price_not_configured";
  const EventDecision d =
      DecideEvent(SubscriptionEvent("evt_1", "customer.subscription.created", 1, spec), "acme",
                  std::nullopt, kPrices, kNow);
  ASSERT_TRUE(d.write.has_value());
  EXPECT_EQ(Word(d.write->plan), "firm");
  EXPECT_EQ(d.plan_source, PlanSource::kMetadata);  // the ingestor logs this case
}

TEST(EventRulesTest, UnknownPriceKeepsThePlanKnownBefore) {
  auto row = Applied(SubscriptionEvent("evt_1", "customer.subscription.created", 1), {});
  SubscriptionSpec spec;
  spec.price = "price_unknown";
  EXPECT_EQ(
      Word(Applied(SubscriptionEvent("evt_2", "customer.subscription.updated", 2, spec), row).plan),
      "pro");
}

TEST(EventRulesTest, OlderEventIsStale) {
  const auto row = Applied(SubscriptionEvent("evt_new", "customer.subscription.updated", 200), {});
  SubscriptionSpec past_due;
  past_due.status = "past_due";
  const EventDecision d =
      DecideEvent(SubscriptionEvent("evt_old", "customer.subscription.updated", 199, past_due),
                  "acme", row, kPrices, kNow);
  EXPECT_EQ(Word(d.outcome), "stale");
  EXPECT_THAT(d.error, HasSubstr("evt_new"));
  EXPECT_FALSE(d.write.has_value());
}

TEST(EventRulesTest, SameSecondLaterArrivalApplies) {
  const auto row = Applied(SubscriptionEvent("evt_a", "customer.subscription.updated", 200), {});
  SubscriptionSpec past_due;
  past_due.status = "past_due";
  EXPECT_EQ(
      Word(Applied(SubscriptionEvent("evt_b", "customer.subscription.updated", 200, past_due), row)
               .status),
      "past_due");
}

TEST(EventRulesTest, DeletedIsNotRevivedByALateUpdate) {
  SubscriptionSpec canceled;
  canceled.status = "canceled";
  canceled.canceled_at = 1'800'000'300;
  const auto row =
      Applied(SubscriptionEvent("evt_del", "customer.subscription.deleted", 300, canceled), {});
  EXPECT_EQ(Word(row.status), "canceled");
  // Older update: stale by time.
  EXPECT_EQ(Word(DecideEvent(SubscriptionEvent("evt_upd_old", "customer.subscription.updated", 250),
                             "acme", row, kPrices, kNow)
                     .outcome),
            "stale");
  // Same second, delivered after: still not revived, canceled is final.
  const EventDecision same =
      DecideEvent(SubscriptionEvent("evt_upd_same", "customer.subscription.updated", 300), "acme",
                  row, kPrices, kNow);
  EXPECT_EQ(Word(same.outcome), "stale");
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
  EXPECT_EQ(Word(new_row.status), "active");
  EXPECT_EQ(new_row.created_at, old_row.created_at);

  // A late event of the old subscription cannot touch the new live one.
  const EventDecision late =
      DecideEvent(SubscriptionEvent("evt_3", "customer.subscription.deleted", 500, canceled),
                  "acme", new_row, kPrices, kNow);
  EXPECT_EQ(Word(late.outcome), "stale");
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
  EXPECT_EQ(Word(d.outcome), "stale");
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
  EXPECT_EQ(Word(retried.outcome), "stale");
}

TEST(EventRulesTest, CheckoutLinksIdsWithoutDowngrading) {
  const StripeEvent checkout = ParseStripeEvent(
      testing::EventPayload("evt_cs", "checkout.session.completed", 50,
                            testing::CheckoutSessionObject("cs_1", "acme", "cus_1", "sub_1")));
  const auto linked = Applied(checkout, {});
  EXPECT_EQ(Word(linked.status), "incomplete");
  EXPECT_EQ(linked.stripe_customer_id, "cus_1");
  EXPECT_EQ(linked.stripe_subscription_id, "sub_1");
  EXPECT_FALSE(linked.last_event_created.has_value());

  // The subscription's own event arrived first: checkout keeps its state.
  const auto active = Applied(SubscriptionEvent("evt_1", "customer.subscription.created", 60), {});
  const auto after = Applied(checkout, active);
  EXPECT_EQ(Word(after.status), "active");
  EXPECT_EQ(after.last_event_id, "evt_1");
}

TEST(EventRulesTest, InvoicePaymentFailedAsksForANotification) {
  const auto active = Applied(SubscriptionEvent("evt_1", "customer.subscription.created", 60), {});
  const StripeEvent failed = ParseStripeEvent(
      testing::EventPayload("evt_f", "invoice.payment_failed", 70,
                            testing::InvoiceObject("sub_1", "cus_1", "acme", ApiShape::kCurrent)));
  const EventDecision d = DecideEvent(failed, "acme", active, kPrices, kNow);
  EXPECT_EQ(Word(d.outcome), "applied");
  EXPECT_EQ(d.notify, domain::Trigger::kPaymentFailed);
  EXPECT_FALSE(d.write.has_value());  // the status moves with customer.subscription.updated
}

StripeEvent InvoiceEvent(const std::string& id, const std::string& type, int64_t created,
                         testing::InvoiceSpec spec = {}) {
  return ParseStripeEvent(
      testing::EventPayload(id, type, created, testing::InvoiceObject(spec, ApiShape::kCurrent)));
}

TEST(EventRulesTest, InvoiceEventsRecordTheInvoiceForTheTenant) {
  const auto active = Applied(SubscriptionEvent("evt_1", "customer.subscription.created", 60), {});
  testing::InvoiceSpec spec;
  spec.status = "paid";
  spec.amount_paid = 4900;
  const EventDecision d =
      DecideEvent(InvoiceEvent("evt_p", "invoice.paid", 70, spec), "acme", active, kPrices, kNow);
  EXPECT_EQ(Word(d.outcome), "applied");
  EXPECT_FALSE(d.only_records_invoice);
  ASSERT_TRUE(d.invoice.has_value());
  EXPECT_EQ(d.invoice->invoice_id, "in_1");
  EXPECT_EQ(d.invoice->tenant_id, "acme");
  EXPECT_EQ(d.invoice->stripe_subscription_id, "sub_1");
  EXPECT_EQ(d.invoice->stripe_customer_id, "cus_1");
  EXPECT_EQ(d.invoice->number, "ACME-0001");
  EXPECT_EQ(std::string(domain::InvoiceStatusWord(d.invoice->status)), "paid");
  EXPECT_EQ(d.invoice->amount_due, 4900);
  EXPECT_EQ(d.invoice->amount_paid, 4900);
  EXPECT_EQ(d.invoice->currency, "usd");
  EXPECT_EQ(d.invoice->period_start, 1'800'000'000);
  EXPECT_EQ(d.invoice->period_end, 1'802'592'000);
  EXPECT_EQ(d.invoice->created, 1'800'000'000);
  EXPECT_EQ(d.invoice->last_event_created, 70);
  EXPECT_EQ(d.invoice->last_event_id, "evt_p");
  EXPECT_EQ(d.invoice->updated_at, kNow);

  // The payment failure still notifies and records the invoice beside it.
  const EventDecision failed = DecideEvent(InvoiceEvent("evt_f", "invoice.payment_failed", 71),
                                           "acme", active, kPrices, kNow);
  EXPECT_EQ(failed.notify, domain::Trigger::kPaymentFailed);
  ASSERT_TRUE(failed.invoice.has_value());
  EXPECT_EQ(std::string(domain::InvoiceStatusWord(failed.invoice->status)), "open");
}

// finalized and voided change nothing but the invoice record: applied for that, with no
// subscription write and no notification.
TEST(EventRulesTest, FinalizedAndVoidedOnlyRecordTheInvoice) {
  const auto active = Applied(SubscriptionEvent("evt_1", "customer.subscription.created", 60), {});
  testing::InvoiceSpec spec;
  for (const auto& [type, status] :
       {std::pair{"invoice.finalized", "open"}, std::pair{"invoice.voided", "void"}}) {
    SCOPED_TRACE(type);
    spec.status = status;
    const EventDecision d =
        DecideEvent(InvoiceEvent("evt_x", type, 70, spec), "acme", active, kPrices, kNow);
    EXPECT_EQ(Word(d.outcome), "applied") << d.error;
    EXPECT_TRUE(d.only_records_invoice);
    EXPECT_FALSE(d.write.has_value());
    EXPECT_FALSE(d.notify.has_value());
    ASSERT_TRUE(d.invoice.has_value());
    EXPECT_EQ(std::string(domain::InvoiceStatusWord(d.invoice->status)), status);
  }
  // No tenant: unmatched, as every handled event.
  const EventDecision orphan =
      DecideEvent(InvoiceEvent("evt_o", "invoice.finalized", 70), "", std::nullopt, kPrices, kNow);
  EXPECT_EQ(Word(orphan.outcome), "unmatched");
  EXPECT_FALSE(orphan.invoice.has_value());
}

// As an unknown subscription status does: the event fails, nothing is applied or sent, and the
// error says why (an operator replays it once the server knows the word).
TEST(EventRulesTest, AnInvoiceWithAnUnknownStatusOrNoIdFailsTheEvent) {
  const auto active = Applied(SubscriptionEvent("evt_1", "customer.subscription.created", 60), {});
  testing::InvoiceSpec spec;
  spec.status = "refunded";
  EventDecision d = DecideEvent(InvoiceEvent("evt_f", "invoice.payment_failed", 70, spec), "acme",
                                active, kPrices, kNow);
  EXPECT_EQ(Word(d.outcome), "failed");
  EXPECT_THAT(d.error, HasSubstr("unknown invoice status 'refunded'"));
  EXPECT_FALSE(d.invoice.has_value());
  EXPECT_FALSE(d.notify.has_value());

  spec.status = "open";
  spec.id = "";
  d = DecideEvent(InvoiceEvent("evt_g", "invoice.paid", 70, spec), "acme", active, kPrices, kNow);
  EXPECT_EQ(Word(d.outcome), "failed");
  EXPECT_THAT(d.error, HasSubstr("no id"));
}

TEST(EventRulesTest, PaymentActionRequiredAndTrialWillEndAskForNotifications) {
  const auto active = Applied(SubscriptionEvent("evt_1", "customer.subscription.created", 60), {});
  const StripeEvent action = ParseStripeEvent(
      testing::EventPayload("evt_a", "invoice.payment_action_required", 70,
                            testing::InvoiceObject("sub_1", "cus_1", "acme", ApiShape::kCurrent)));
  EXPECT_EQ(DecideEvent(action, "acme", active, kPrices, kNow).notify,
            domain::Trigger::kPaymentActionRequired);
  ASSERT_TRUE(action.invoice.has_value());
  EXPECT_EQ(action.invoice->hosted_invoice_url, "https://invoice.stripe.com/i/acct_1/test_in_1");
  EXPECT_EQ(action.invoice->amount_due, 4900);

  const StripeEvent paid = ParseStripeEvent(
      testing::EventPayload("evt_p", "invoice.paid", 71,
                            testing::InvoiceObject("sub_1", "cus_1", "acme", ApiShape::kCurrent)));
  EXPECT_FALSE(DecideEvent(paid, "acme", active, kPrices, kNow).notify.has_value());

  SubscriptionSpec trialing;
  trialing.status = "trialing";
  const EventDecision trial =
      DecideEvent(SubscriptionEvent("evt_t", "customer.subscription.trial_will_end", 80, trialing),
                  "acme", active, kPrices, kNow);
  EXPECT_EQ(Word(trial.outcome), "applied");
  EXPECT_EQ(trial.notify, domain::Trigger::kTrialEnding);
  // Older than what was applied: the subscription has moved on, nobody is told.
  const EventDecision stale =
      DecideEvent(SubscriptionEvent("evt_t0", "customer.subscription.trial_will_end", 50, trialing),
                  "acme", active, kPrices, kNow);
  EXPECT_EQ(Word(stale.outcome), "stale");
  EXPECT_FALSE(stale.notify.has_value());
}

TEST(EventRulesTest, UnmatchedAndIgnored) {
  const auto unmatched = DecideEvent(SubscriptionEvent("evt_1", "customer.subscription.created", 1),
                                     "", std::nullopt, kPrices, kNow);
  EXPECT_EQ(Word(unmatched.outcome), "unmatched");
  EXPECT_THAT(unmatched.error, HasSubstr("cus_1"));
  const StripeEvent other =
      ParseStripeEvent(testing::EventPayload("evt_2", "customer.created", 1, {{"id", "cus_1"}}));
  EXPECT_EQ(Word(DecideEvent(other, "acme", std::nullopt, kPrices, kNow).outcome), "ignored");
}

TEST(EventRulesTest, UnknownStatusFails) {
  SubscriptionSpec odd;
  odd.status = "weird";
  const auto d = DecideEvent(SubscriptionEvent("evt_1", "customer.subscription.updated", 1, odd),
                             "acme", std::nullopt, kPrices, kNow);
  EXPECT_EQ(Word(d.outcome), "failed");
  EXPECT_THAT(d.error, HasSubstr("weird"));
}

// A tenant whose recorded subscription sub_1 is in `status`, and a paid checkout or an event of
// a second subscription sub_2: replaced exactly when sub_1 is no longer live, and otherwise a
// failure an operator must act on, since the customer may be charged twice (checkout refuses a
// new purchase by the same rule: billing_rules_test).
TEST(EventRulesTest, ASecondSubscriptionReplacesOnlyAFinishedOne) {
  for (const SubscriptionStatus status : domain::kAllStatuses) {
    SCOPED_TRACE(Word(status));
    Subscription current;
    current.tenant_id = "acme";
    current.stripe_customer_id = "cus_1";
    current.stripe_subscription_id = "sub_1";
    current.plan = Plan::kPro;
    current.status = status;
    current.last_event_created = 100;
    current.last_event_id = "evt_0";

    SubscriptionSpec second;
    second.id = "sub_2";
    const EventDecision event =
        DecideEvent(SubscriptionEvent("evt_2", "customer.subscription.created", 200, second),
                    "acme", current, kPrices, kNow);
    const StripeEvent checkout = ParseStripeEvent(
        testing::EventPayload("evt_cs", "checkout.session.completed", 200,
                              testing::CheckoutSessionObject("cs_2", "acme", "cus_1", "sub_2")));
    const EventDecision paid = DecideEvent(checkout, "acme", current, kPrices, kNow);
    // Written out rather than asking domain::IsLive, so a change to that rule shows here.
    const bool live =
        status != SubscriptionStatus::kCanceled && status != SubscriptionStatus::kIncompleteExpired;
    if (live) {
      EXPECT_EQ(Word(event.outcome), "failed");
      EXPECT_TRUE(event.second_live_subscription);
      EXPECT_EQ(Word(paid.outcome), "failed");
      EXPECT_TRUE(paid.second_live_subscription);
      EXPECT_THAT(paid.error, HasSubstr("sub_1"));
      EXPECT_THAT(paid.error, HasSubstr("billed twice"));
      EXPECT_FALSE(paid.write.has_value());
    } else {
      EXPECT_EQ(Word(event.outcome), "applied") << event.error;
      ASSERT_TRUE(event.write.has_value());
      EXPECT_EQ(event.write->stripe_subscription_id, "sub_2");
      EXPECT_EQ(Word(paid.outcome), "applied") << paid.error;
      ASSERT_TRUE(paid.write.has_value());
      EXPECT_EQ(paid.write->stripe_subscription_id, "sub_2");
    }
  }
}

// After a two-subscription conflict the operator cancels the first one and replays an event of
// the one kept, which started before the other ended: the replay applies.
TEST(EventRulesTest, AReplayAfterAConflictInstallsTheSubscriptionKept) {
  Subscription current;
  current.tenant_id = "acme";
  current.stripe_subscription_id = "sub_1";
  current.status = SubscriptionStatus::kCanceled;  // canceled by the operator at 300
  current.last_event_created = 300;
  current.last_event_id = "evt_del_1";
  SubscriptionSpec kept;
  kept.id = "sub_2";
  const StripeEvent created =
      SubscriptionEvent("evt_2", "customer.subscription.created", 200, kept);
  EXPECT_EQ(Word(DecideEvent(created, "acme", current, kPrices, kNow).outcome), "stale");
  const EventDecision replayed =
      DecideEvent(created, "acme", current, kPrices, kNow, /*operator_replay=*/true);
  EXPECT_EQ(Word(replayed.outcome), "applied") << replayed.error;
  ASSERT_TRUE(replayed.write.has_value());
  EXPECT_EQ(replayed.write->stripe_subscription_id, "sub_2");
  EXPECT_EQ(Word(replayed.write->status), "active");
  EXPECT_EQ(Word(replayed.write->plan), "pro");
}

TEST(EventRulesTest, ACheckoutWithoutASubscriptionRecordsNothing) {
  const StripeEvent payment = ParseStripeEvent(
      testing::EventPayload("evt_cs", "checkout.session.completed", 50,
                            testing::CheckoutSessionObject("cs_1", "acme", "cus_1", "")));
  const EventDecision d = DecideEvent(payment, "acme", std::nullopt, kPrices, kNow);
  EXPECT_EQ(Word(d.outcome), "ignored");
  EXPECT_FALSE(d.write.has_value());
}

TEST(EventRulesTest, AFinishedSecondSubscriptionIsOnlyStale) {
  Subscription current;
  current.tenant_id = "acme";
  current.stripe_subscription_id = "sub_1";
  current.status = SubscriptionStatus::kActive;
  SubscriptionSpec old_one;
  old_one.id = "sub_0";
  old_one.status = "canceled";
  const EventDecision d =
      DecideEvent(SubscriptionEvent("evt_9", "customer.subscription.deleted", 500, old_one), "acme",
                  current, kPrices, kNow);
  EXPECT_EQ(Word(d.outcome), "stale");
  EXPECT_FALSE(d.second_live_subscription);
}

TEST(PlanPricesTest, MapsConfiguredPricesOnly) {
  EXPECT_EQ(Word(kPrices.PlanForPrice("price_firm_1")), "firm");
  EXPECT_EQ(Word(kPrices.PlanForPrice("price_other")), "(none)");
  EXPECT_EQ(Word(PlanPrices{}.PlanForPrice("")), "(none)");
}

}  // namespace
}  // namespace paybell::webhooks

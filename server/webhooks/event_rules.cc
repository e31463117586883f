#include "server/webhooks/event_rules.h"

#include "server/billing/subscription_rules.h"

namespace paybell::webhooks {
namespace {

EventDecision Outcome(std::string outcome, std::string error) {
  EventDecision d;
  d.outcome = std::move(outcome);
  d.error = std::move(error);
  return d;
}

bool IsFinished(const std::string& status) {
  return status.empty() || status == "canceled" || status == "incomplete_expired";
}

std::string ValidPlanWord(const std::string& word) {
  return billing::PlanFromWord(word) == v1::PLAN_UNSPECIFIED ? "" : word;
}

// A fresh row for the tenant, or `current` reset for a new subscription id.
db::SubscriptionRecord StartRow(const std::string& tenant_id,
                                const std::optional<db::SubscriptionRecord>& current, int64_t now) {
  db::SubscriptionRecord row;
  row.tenant_id = tenant_id;
  row.created_at = current ? current->created_at : now;
  if (current) row.stripe_customer_id = current->stripe_customer_id;
  return row;
}

EventDecision LinkCheckout(const StripeEvent& e, const std::string& tenant_id,
                           const std::optional<db::SubscriptionRecord>& current, int64_t now) {
  const bool same_subscription =
      current && !e.subscription_id.empty() && current->stripe_subscription_id == e.subscription_id;
  db::SubscriptionRecord row;
  if (current && (same_subscription || e.subscription_id.empty())) {
    row = *current;
  } else if (current && !IsFinished(current->status) && !current->stripe_subscription_id.empty()) {
    return Outcome("stale", "tenant already has live subscription " +
                                current->stripe_subscription_id + "; checkout not linked");
  } else {
    row = StartRow(tenant_id, current, now);
    row.status = "incomplete";  // until the subscription's own events say more
  }
  if (!e.customer_id.empty()) row.stripe_customer_id = e.customer_id;
  if (!e.subscription_id.empty()) row.stripe_subscription_id = e.subscription_id;
  if (row.plan.empty()) row.plan = ValidPlanWord(e.metadata_plan);
  row.updated_at = now;
  EventDecision d = Outcome("applied", "");
  d.write = row;
  return d;
}

EventDecision ApplySubscription(const StripeEvent& e, const std::string& tenant_id,
                                const std::optional<db::SubscriptionRecord>& current,
                                const PlanPrices& prices, int64_t now) {
  const SubscriptionState& s = *e.state;
  if (e.subscription_id.empty()) return Outcome("failed", "subscription object has no id");
  if (billing::StatusFromWord(s.status) == v1::SUBSCRIPTION_STATUS_UNSPECIFIED) {
    return Outcome("failed", "unknown subscription status '" + s.status + "'");
  }

  db::SubscriptionRecord row;
  const bool same = current && current->stripe_subscription_id == e.subscription_id;
  if (same) {
    if (current->last_event_created && e.created < *current->last_event_created) {
      return Outcome("stale", "older than the last applied event " + current->last_event_id);
    }
    // created is a subscription's first event: once anything was applied, a late (or
    // same-second) created would only roll the state back.
    if (current->last_event_created && e.type == "customer.subscription.created") {
      return Outcome("stale", "customer.subscription.created after " + current->last_event_id +
                                  " was applied");
    }
    if (current->status == "canceled" && e.type != "customer.subscription.deleted") {
      return Outcome("stale", "subscription " + e.subscription_id +
                                  " is canceled; a canceled subscription is final");
    }
    row = *current;
  } else if (current && !current->stripe_subscription_id.empty() && !IsFinished(current->status)) {
    return Outcome("stale", "event is for subscription " + e.subscription_id +
                                " but the tenant's live subscription is " +
                                current->stripe_subscription_id);
  } else {
    // Replacing a finished subscription: only with something newer than what was applied, so a
    // retried event of an even older subscription cannot take over.
    if (current && current->last_event_created && e.created < *current->last_event_created) {
      return Outcome("stale", "event for subscription " + e.subscription_id +
                                  " is older than the last applied event " +
                                  current->last_event_id);
    }
    row = StartRow(tenant_id, current, now);
    if (current && current->stripe_subscription_id.empty()) row.plan = current->plan;
  }

  row.stripe_subscription_id = e.subscription_id;
  if (!e.customer_id.empty()) row.stripe_customer_id = e.customer_id;
  row.status = s.status;
  const std::string plan = ValidPlanWord(e.metadata_plan);
  const std::string priced = prices.PlanForPrice(s.price_id);
  if (!plan.empty()) {
    row.plan = plan;
  } else if (!priced.empty()) {
    row.plan = priced;
  }
  row.current_period_start = s.current_period_start;
  row.current_period_end = s.current_period_end;
  row.cancel_at_period_end = s.cancel_at_period_end;
  row.cancel_at = s.cancel_at;
  row.canceled_at = s.canceled_at;
  row.trial_end = s.trial_end;
  row.last_event_created = e.created;
  row.last_event_id = e.id;
  row.updated_at = now;
  EventDecision d = Outcome("applied", "");
  d.write = row;
  return d;
}

// Invoices do not carry the subscription's status: Stripe sends customer.subscription.updated
// beside them, and that event moves the status. An invoice event links ids Paybell did not know
// yet and, when a payment failed, makes the tenant's owners hear about it.
EventDecision ApplyInvoice(const StripeEvent& e,
                           const std::optional<db::SubscriptionRecord>& current, int64_t now) {
  EventDecision d = Outcome("applied", "");
  d.payment_failed = e.kind == EventKind::kInvoicePaymentFailed;
  if (current && (current->stripe_customer_id.empty() || current->stripe_subscription_id.empty())) {
    db::SubscriptionRecord row = *current;
    if (row.stripe_customer_id.empty()) row.stripe_customer_id = e.customer_id;
    if (row.stripe_subscription_id.empty()) row.stripe_subscription_id = e.subscription_id;
    row.updated_at = now;
    d.write = row;
  }
  return d;
}

}  // namespace

std::string PlanPrices::PlanForPrice(const std::string& price_id) const {
  if (price_id.empty()) return "";
  if (price_id == starter) return "starter";
  if (price_id == pro) return "pro";
  if (price_id == firm) return "firm";
  return "";
}

EventDecision DecideEvent(const StripeEvent& event, const std::string& tenant_id,
                          const std::optional<db::SubscriptionRecord>& current,
                          const PlanPrices& prices, int64_t now) {
  if (event.kind == EventKind::kUnhandled) {
    return Outcome("ignored", "event type " + event.type + " is not handled");
  }
  if (tenant_id.empty()) {
    return Outcome("unmatched",
                   "no tenant for this event (no metadata.tenant_id or "
                   "client_reference_id, and customer '" +
                       event.customer_id + "' / subscription '" + event.subscription_id +
                       "' are not known)");
  }
  switch (event.kind) {
    case EventKind::kCheckoutCompleted:
      return LinkCheckout(event, tenant_id, current, now);
    case EventKind::kSubscriptionChange:
      return ApplySubscription(event, tenant_id, current, prices, now);
    case EventKind::kInvoicePaymentFailed:
    case EventKind::kInvoicePaid:
      return ApplyInvoice(event, current, now);
    case EventKind::kUnhandled:
      break;
  }
  return Outcome("ignored", "event type " + event.type + " is not handled");
}

}  // namespace paybell::webhooks

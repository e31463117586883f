#include "server/webhooks/event_rules.h"

#include <utility>

namespace paybell::webhooks {
namespace {

using domain::EventOutcome;
using domain::Subscription;
using domain::SubscriptionStatus;

EventDecision Outcome(EventOutcome outcome, std::string error) {
  EventDecision d;
  d.outcome = outcome;
  d.error = std::move(error);
  return d;
}

// Two subscriptions would bill the tenant while Paybell follows one: refused loudly.
EventDecision SecondLiveSubscription(const StripeEvent& e, const Subscription& current,
                                     const std::string& what) {
  EventDecision d = Outcome(
      EventOutcome::kFailed,
      what + " " + e.subscription_id + " for tenant " + current.tenant_id +
          ", which already has live subscription " + current.stripe_subscription_id + " (" +
          std::string(domain::StatusWord(current.status)) +
          "): the customer may be billed twice. Cancel (and refund) one of the two in the Stripe "
          "dashboard, then replay the newest event of the one kept.");
  d.second_live_subscription = true;
  return d;
}

// A fresh row for the tenant, or `current` reset for a new subscription id.
Subscription StartRow(const std::string& tenant_id, const std::optional<Subscription>& current,
                      int64_t now) {
  Subscription row;
  row.tenant_id = tenant_id;
  row.created_at = current ? current->created_at : now;
  if (current) row.stripe_customer_id = current->stripe_customer_id;
  return row;
}

std::optional<domain::Plan> MetadataPlan(const StripeEvent& e) {
  auto plan = domain::PlanFromWord(e.metadata_plan);
  if (!plan || *plan == domain::Plan::kNone) return std::nullopt;
  return plan;
}

EventDecision LinkCheckout(const StripeEvent& e, const std::string& tenant_id,
                           const std::optional<Subscription>& current, int64_t now) {
  const bool same_subscription =
      current && !e.subscription_id.empty() && current->stripe_subscription_id == e.subscription_id;
  Subscription row;
  if (!current && e.subscription_id.empty()) {
    // A checkout that created no subscription (payment mode): nothing to follow.
    return Outcome(EventOutcome::kIgnored,
                   "checkout " + e.checkout_session_id + " created no subscription");
  }
  if (current && (same_subscription || e.subscription_id.empty())) {
    row = *current;
  } else if (domain::HasLiveSubscription(current)) {
    return SecondLiveSubscription(
        e, *current, "checkout " + e.checkout_session_id + " was paid and created subscription");
  } else {
    row = StartRow(tenant_id, current, now);
    row.status = SubscriptionStatus::kIncomplete;  // until the subscription's own events say more
  }
  if (!e.customer_id.empty()) row.stripe_customer_id = e.customer_id;
  if (!e.subscription_id.empty()) row.stripe_subscription_id = e.subscription_id;
  EventDecision d = Outcome(EventOutcome::kApplied, "");
  if (row.plan == domain::Plan::kNone) {
    if (auto plan = MetadataPlan(e)) {
      row.plan = *plan;
      d.plan_source = PlanSource::kMetadata;
    }
  }
  row.updated_at = now;
  d.write = row;
  return d;
}

EventDecision ApplySubscription(const StripeEvent& e, const std::string& tenant_id,
                                const std::optional<Subscription>& current,
                                const PlanPrices& prices, int64_t now, bool operator_replay) {
  const SubscriptionState& s = *e.state;
  if (e.subscription_id.empty())
    return Outcome(EventOutcome::kFailed, "subscription object has no id");
  const auto status = domain::StatusFromWord(s.status);
  if (!status)
    return Outcome(EventOutcome::kFailed, "unknown subscription status '" + s.status + "'");

  Subscription row;
  const bool same = current && current->stripe_subscription_id == e.subscription_id;
  if (same) {
    if (current->last_event_created && e.created < *current->last_event_created) {
      return Outcome(EventOutcome::kStale,
                     "older than the last applied event " + current->last_event_id);
    }
    // created is a subscription's first event: once anything was applied, a late (or
    // same-second) created would only roll the state back.
    if (current->last_event_created && e.type == "customer.subscription.created") {
      return Outcome(EventOutcome::kStale, "customer.subscription.created after " +
                                               current->last_event_id + " was applied");
    }
    if (current->status == SubscriptionStatus::kCanceled &&
        e.type != "customer.subscription.deleted") {
      return Outcome(EventOutcome::kStale, "subscription " + e.subscription_id +
                                               " is canceled; a canceled subscription is final");
    }
    row = *current;
  } else if (domain::HasLiveSubscription(current)) {
    if (domain::IsLive(*status)) {
      return SecondLiveSubscription(e, *current, "event for live subscription");
    }
    return Outcome(EventOutcome::kStale, "event is for finished subscription " + e.subscription_id +
                                             " but the tenant's live subscription is " +
                                             current->stripe_subscription_id);
  } else {
    // Replacing a finished subscription: only with something newer than what was applied, so a
    // retried event of an even older subscription cannot take over. An operator replaying an
    // event chose it (after a two-subscription conflict, the one kept started before the other
    // ended), so the replay is not held to the other subscription's clock.
    if (!operator_replay && current && current->last_event_created &&
        e.created < *current->last_event_created) {
      return Outcome(EventOutcome::kStale, "event for subscription " + e.subscription_id +
                                               " is older than the last applied event " +
                                               current->last_event_id);
    }
    row = StartRow(tenant_id, current, now);
    if (current && current->stripe_subscription_id.empty()) row.plan = current->plan;
  }

  EventDecision d = Outcome(EventOutcome::kApplied, "");
  d.plan_source = WriteSubscriptionState(e, *status, prices, row);
  row.last_event_created = e.created;
  row.last_event_id = e.id;
  row.updated_at = now;
  d.write = row;
  return d;
}

// The billing_invoices row an invoice event writes, unless its invoice is unusable.
std::optional<domain::Invoice> InvoiceRow(const StripeEvent& e, const std::string& tenant_id,
                                          int64_t now, std::string& error) {
  const InvoiceFacts& facts = *e.invoice;
  const auto status = domain::ParseInvoiceStatus(facts.status);
  if (facts.id.empty()) {
    error = "invoice object has no id";
    return std::nullopt;
  }
  if (!status) {
    error = "unknown invoice status '" + facts.status + "'";
    return std::nullopt;
  }
  domain::Invoice row;
  row.invoice_id = facts.id;
  row.tenant_id = tenant_id;
  row.stripe_customer_id = e.customer_id;
  row.stripe_subscription_id = e.subscription_id;
  row.number = facts.number;
  row.status = *status;
  row.amount_due = facts.amount_due;
  row.amount_paid = facts.amount_paid;
  row.currency = facts.currency;
  row.period_start = facts.period_start;
  row.period_end = facts.period_end;
  row.created = facts.created.value_or(e.created);  // an invoice exists before its events
  row.hosted_invoice_url = facts.hosted_invoice_url;
  row.invoice_pdf = facts.invoice_pdf;
  row.last_event_created = e.created;
  row.last_event_id = e.id;
  row.updated_at = now;
  return row;
}

// Invoices do not carry the subscription's status: Stripe sends customer.subscription.updated
// beside them, and that event moves the status. An invoice event records the invoice's summary,
// links ids Paybell did not know yet and, when a payment failed or needs the customer, makes
// the tenant's owners hear about it. invoice.finalized and invoice.voided only record the
// invoice: that is a change Paybell keeps, so they are applied (or stale when a newer event of
// the invoice was recorded already), not ignored.
EventDecision ApplyInvoice(const StripeEvent& e, const std::string& tenant_id,
                           const std::optional<Subscription>& current, int64_t now) {
  if (!e.invoice) return Outcome(EventOutcome::kFailed, "event carries no invoice object");
  std::string error;
  auto invoice = InvoiceRow(e, tenant_id, now, error);
  if (!invoice) return Outcome(EventOutcome::kFailed, error);
  EventDecision d = Outcome(EventOutcome::kApplied, "");
  d.invoice = std::move(invoice);
  if (e.kind == EventKind::kInvoiceFinalized || e.kind == EventKind::kInvoiceVoided) {
    d.only_records_invoice = true;
    return d;
  }
  if (e.kind == EventKind::kInvoicePaymentFailed) d.notify = domain::Trigger::kPaymentFailed;
  if (e.kind == EventKind::kInvoicePaymentActionRequired) {
    d.notify = domain::Trigger::kPaymentActionRequired;
  }
  if (current && (current->stripe_customer_id.empty() || current->stripe_subscription_id.empty())) {
    Subscription row = *current;
    if (row.stripe_customer_id.empty()) row.stripe_customer_id = e.customer_id;
    if (row.stripe_subscription_id.empty()) row.stripe_subscription_id = e.subscription_id;
    row.updated_at = now;
    d.write = row;
  }
  return d;
}

}  // namespace

PlanSource WriteSubscriptionState(const StripeEvent& e, domain::SubscriptionStatus status,
                                  const PlanPrices& prices, domain::Subscription& row) {
  const SubscriptionState& s = *e.state;
  PlanSource source = PlanSource::kKept;
  row.stripe_subscription_id = e.subscription_id;
  if (!e.customer_id.empty()) row.stripe_customer_id = e.customer_id;
  row.status = status;
  // The price decides: the customer portal changes the price, never the metadata checkout
  // wrote. metadata.plan only names a price this server does not know (a price changed in
  // Stripe before STRIPE_PRICE_* was updated).
  if (auto priced = prices.PlanForPrice(s.price_id)) {
    row.plan = *priced;
    source = PlanSource::kPrice;
  } else if (auto plan = MetadataPlan(e)) {
    row.plan = *plan;
    source = PlanSource::kMetadata;
  }
  row.current_period_start = s.current_period_start;
  row.current_period_end = s.current_period_end;
  row.cancel_at_period_end = s.cancel_at_period_end;
  row.cancel_at = s.cancel_at;
  row.canceled_at = s.canceled_at;
  row.trial_end = s.trial_end;
  return source;
}

std::optional<domain::Plan> PlanPrices::PlanForPrice(const std::string& price_id) const {
  if (price_id.empty()) return std::nullopt;
  if (price_id == starter) return domain::Plan::kStarter;
  if (price_id == pro) return domain::Plan::kPro;
  if (price_id == firm) return domain::Plan::kFirm;
  return std::nullopt;
}

EventDecision DecideEvent(const StripeEvent& event, const std::string& tenant_id,
                          const std::optional<Subscription>& current, const PlanPrices& prices,
                          int64_t now, bool operator_replay) {
  if (event.kind == EventKind::kUnhandled) {
    return Outcome(EventOutcome::kIgnored, "event type " + event.type + " is not handled");
  }
  if (tenant_id.empty()) {
    return Outcome(EventOutcome::kUnmatched,
                   "no tenant for this event (no metadata.tenant_id or "
                   "client_reference_id, and customer '" +
                       event.customer_id + "' / subscription '" + event.subscription_id +
                       "' are not known)");
  }
  switch (event.kind) {
    case EventKind::kCheckoutCompleted:
      return LinkCheckout(event, tenant_id, current, now);
    case EventKind::kSubscriptionChange: {
      EventDecision d = ApplySubscription(event, tenant_id, current, prices, now, operator_replay);
      // Stripe sends trial_will_end three days before a trial ends. Only an applied one: a
      // stale one describes a subscription that has moved on since.
      if (d.outcome == EventOutcome::kApplied &&
          event.type == "customer.subscription.trial_will_end") {
        d.notify = domain::Trigger::kTrialEnding;
      }
      return d;
    }
    case EventKind::kInvoicePaymentFailed:
    case EventKind::kInvoicePaymentActionRequired:
    case EventKind::kInvoicePaid:
    case EventKind::kInvoiceFinalized:
    case EventKind::kInvoiceVoided:
      return ApplyInvoice(event, tenant_id, current, now);
    case EventKind::kUnhandled:
      break;
  }
  return Outcome(EventOutcome::kIgnored, "event type " + event.type + " is not handled");
}

}  // namespace paybell::webhooks

// What one Stripe event does to a tenant's subscription: pure rules over domain values, no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "server/domain/event_outcome.h"
#include "server/domain/invoice.h"
#include "server/domain/notification.h"
#include "server/domain/subscription.h"
#include "server/webhooks/stripe_event.h"

namespace paybell::webhooks {

// The configured price id of each plan (STRIPE_PRICE_*): the price decides the plan.
struct PlanPrices {
  std::string starter;
  std::string pro;
  std::string firm;
  // The plan whose configured price this is; nullopt for an empty or unknown price.
  std::optional<domain::Plan> PlanForPrice(const std::string& price_id) const;
};

// Where the plan written by an applied subscription event came from.
enum class PlanSource {
  kPrice,     // the subscription item's price is a configured plan's price
  kMetadata,  // the price is unknown, so metadata.plan (written at checkout) named it
  kKept,      // neither: the plan recorded before stays
};

struct EventDecision {
  domain::EventOutcome outcome = domain::EventOutcome::kFailed;
  std::string error;                          // why it was not applied; empty when applied
  std::optional<domain::Subscription> write;  // the row to store, when it changes
  PlanSource plan_source = PlanSource::kKept;
  // A paid checkout or a live subscription that Paybell cannot follow because the tenant
  // already has another live one: money moved, so an operator must act (audited).
  bool second_live_subscription = false;
  // A notification the applied event raises for the tenant (payment failed, payment action
  // required, trial ending).
  std::optional<domain::Trigger> notify;
  // The invoice summary an applied invoice.* event records in billing_invoices. Whether it is
  // newer than the stored one is decided by the repository's conditional write
  // (InvoiceRepository::UpsertIfNewer), in the same transaction.
  std::optional<domain::Invoice> invoice;
  // The event does nothing but record the invoice (invoice.finalized, invoice.voided): when the
  // stored row is from a newer event, the event changed nothing and is stale.
  bool only_records_invoice = false;
};

// Writes the subscription state `e` carries onto `row`: its ids, status (`status`, already
// parsed), the plan (the price decides; metadata.plan only names a price this server does not
// know; neither: the row's plan stays), periods, cancel flags and trial end. Returns where the
// plan came from. The one reading of a subscription's state, for events and for reconcile.
PlanSource WriteSubscriptionState(const StripeEvent& e, domain::SubscriptionStatus status,
                                  const PlanPrices& prices, domain::Subscription& row);

// Decides an event for `tenant_id` ("" when no tenant could be found) whose stored row is
// `current`. Ordering: a subscription event older (by Stripe's `created`) than the last one
// applied to the same subscription is stale; one with the same `created` arrived later and
// applies. A canceled subscription is final in Stripe, so no later event revives it. A new
// subscription (new id) replaces only one that is no longer live (domain::HasLiveSubscription),
// the same rule checkout uses to refuse a second purchase, and only with an event newer than
// the last one applied, unless `operator_replay`: an operator replays the newest stored event
// of that subscription (the way out of a two-subscription conflict).
// An invoice.* event also records its invoice (EventDecision::invoice); an invoice without an
// id or with an unknown status fails the event, nothing applied, as an unknown subscription
// status does.
EventDecision DecideEvent(const StripeEvent& event, const std::string& tenant_id,
                          const std::optional<domain::Subscription>& current,
                          const PlanPrices& prices, int64_t now, bool operator_replay = false);

}  // namespace paybell::webhooks

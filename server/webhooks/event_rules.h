// What one Stripe event does to a tenant's subscription row: pure rules, no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "db/subscription_repository.h"
#include "server/webhooks/stripe_event.h"

namespace paybell::webhooks {

// The configured price id of each plan (STRIPE_PRICE_*), to name the plan of a subscription
// whose metadata does not.
struct PlanPrices {
  std::string starter;
  std::string pro;
  std::string firm;
  // "starter" | "pro" | "firm", or "" when the price is not one of them.
  std::string PlanForPrice(const std::string& price_id) const;
};

struct EventDecision {
  std::string outcome;                          // applied | stale | ignored | unmatched | failed
  std::string error;                            // why it was not applied; empty when applied
  std::optional<db::SubscriptionRecord> write;  // the row to store, when it changes
  bool payment_failed = false;  // a payment_failed notification is due for the tenant
};

// Decides an event for `tenant_id` ("" when no tenant could be found) whose stored row is
// `current`. Ordering: a subscription event older (by Stripe's `created`) than the last one
// applied to the same subscription is stale; one with the same `created` arrived later and
// applies. A canceled subscription is final in Stripe, so no later event revives it; a new
// subscription (new id) replaces a finished one, never a live one.
EventDecision DecideEvent(const StripeEvent& event, const std::string& tenant_id,
                          const std::optional<db::SubscriptionRecord>& current,
                          const PlanPrices& prices, int64_t now);

}  // namespace paybell::webhooks

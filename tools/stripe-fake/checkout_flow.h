// Completing a hosted checkout: the customer, subscription and events a real payment produces.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tools/stripe-fake/store.h"

namespace paybell::stripe_fake {

struct PayOutcome {
  enum class Kind { kCompleted, kNotFound, kAlreadyPaid };
  Kind kind = Kind::kNotFound;
  nlohmann::json session;              // the session after payment (or as it stands)
  std::vector<nlohmann::json> events;  // to deliver, in order; empty unless kCompleted
};

// Marks an open session paid, creating the customer (unless the session named one) and the
// subscription. Callers hold the state lock and deliver the events after releasing it.
PayOutcome CompleteCheckout(ObjectStore& store, const std::string& session_id, int64_t now);

// What a customer does in the billing portal to one of their subscriptions.
struct SubscriptionChange {
  std::string subscription;                  // must belong to the portal session's customer
  std::string price;                         // "": keep the plan
  std::optional<bool> cancel_at_period_end;  // nullopt: unchanged
  bool cancel_now = false;                   // ends it at once (customer.subscription.deleted)
};

struct ChangeOutcome {
  std::string error;                   // non-empty: nothing changed (shown to the customer)
  nlohmann::json subscription;         // after the change
  std::vector<nlohmann::json> events;  // to deliver; recorded in the store already
};

// Applies a portal change as Stripe would: the item's price, cancel_at_period_end (cancel_at is
// then the period's end), or an immediate cancel; one customer.subscription.updated (with
// data.previous_attributes) or .deleted event. Callers hold the state lock.
ChangeOutcome ChangeSubscription(ObjectStore& store, const std::string& customer,
                                 const SubscriptionChange& change, int64_t now);

}  // namespace paybell::stripe_fake

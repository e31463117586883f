// What reconciling one tenant with Stripe changes: pure rules over domain values, no I/O.
// Stripe's subscription object is the truth; the stored row takes its state by the same
// reading the webhook rules use (the price decides the plan, metadata.plan only for an unknown
// price, Stripe's status word).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/domain/subscription.h"
#include "server/webhooks/event_rules.h"
#include "server/webhooks/stripe_event.h"

namespace paybell::catchup {

struct FieldDiff {
  std::string tenant_id;
  std::string field;   // the Subscription field's name
  std::string before;  // as stored; "" for none
  std::string after;   // as Stripe has it
};

// A Stripe subscription object read as a customer.subscription.updated event created at `at`
// would be (the same parser, so every API shape the webhook path reads is read here).
// Throws webhooks::MalformedEvent for an object that is not a subscription.
webhooks::StripeEvent SubscriptionAsEvent(const nlohmann::json& subscription, int64_t at);

// Whether a Stripe subscription object's status is a live one (domain::IsLive).
bool IsLiveSubscriptionObject(const nlohmann::json& subscription);

// Of a tenant's subscriptions in Stripe, the one to follow: the recorded one while it is live,
// else the newest live one, else the recorded one, else the newest. nullptr for none.
const nlohmann::json* PickSubscription(const std::vector<nlohmann::json>& candidates,
                                       const std::string& recorded_subscription_id);

struct ReconcileDecision {
  std::vector<FieldDiff> diffs;               // empty: the stored row matches Stripe
  std::optional<domain::Subscription> write;  // the corrected row, when diffs is not empty
  std::string error;                          // why nothing can be decided (unknown status)
  std::string skipped;  // why the row is left as it is although it may differ (a newer event)
};

// `sub_` and letters, digits or underscores, as Stripe makes them: safe in a URL path.
bool IsStripeSubscriptionId(std::string_view id);

// The stored row `current` (nullopt: none) against Stripe's subscription `fetched`, read at
// `at` (Paybell's clock when the fetch began). The corrected row counts as applied at `at`:
// an event created before the fetch, delivered late, finds it newer and is stale, since
// Stripe's object already holds what that event said. A row whose last event was created at
// or after `at` is left alone (`skipped`): that event may say more than the fetched object.
// Both compare Stripe's clock with Paybell's, so they assume clocks kept in step (NTP); a
// Paybell clock ahead of Stripe's by s seconds would find events of the s seconds after a
// reconcile stale. Unlike an event, reconcile also corrects a row that claims "canceled" while
// Stripe's subscription is live: Stripe's own object is the truth, whatever was stored.
ReconcileDecision DecideReconcile(const std::string& tenant_id,
                                  const std::optional<domain::Subscription>& current,
                                  const webhooks::StripeEvent& fetched,
                                  const webhooks::PlanPrices& prices, int64_t at, int64_t now);

// The differing fields of two rows, in the words operators read (plan "pro", status
// "past_due", times as RFC 3339 UTC, "" for none).
std::vector<FieldDiff> DiffSubscriptions(const std::string& tenant_id,
                                         const std::optional<domain::Subscription>& before,
                                         const domain::Subscription& after);

}  // namespace paybell::catchup

// A tenant's subscription as Paybell records it: the state the webhook and checkout rules read
// and write (one billing_subscriptions row).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "server/domain/plan.h"
#include "server/domain/subscription_status.h"

namespace paybell::domain {

struct Subscription {
  std::string tenant_id;
  std::string stripe_customer_id;
  std::string stripe_subscription_id;  // empty until a subscription is linked
  Plan plan = Plan::kNone;
  SubscriptionStatus status = SubscriptionStatus::kIncomplete;
  std::optional<int64_t> current_period_start;
  std::optional<int64_t> current_period_end;
  bool cancel_at_period_end = false;
  std::optional<int64_t> cancel_at;
  std::optional<int64_t> canceled_at;
  std::optional<int64_t> trial_end;
  std::optional<int64_t> last_event_created;  // Stripe "created" of the last applied event
  std::string last_event_id;
  int64_t created_at = 0;
  int64_t updated_at = 0;

  bool operator==(const Subscription& other) const;
  bool operator!=(const Subscription& other) const { return !(*this == other); }
};

// Whether the tenant has a subscription that still bills or can come back (IsLive) recorded
// with its Stripe id: the one question checkout (refuse a new purchase) and the webhook rules
// (refuse a replacement) both ask.
bool HasLiveSubscription(const std::optional<Subscription>& current);

}  // namespace paybell::domain

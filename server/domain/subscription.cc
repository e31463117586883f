#include "server/domain/subscription.h"

#include <tuple>

namespace paybell::domain {

bool Subscription::operator==(const Subscription& o) const {
  auto fields = [](const Subscription& s) {
    return std::tie(s.tenant_id, s.stripe_customer_id, s.stripe_subscription_id, s.plan, s.status,
                    s.current_period_start, s.current_period_end, s.cancel_at_period_end,
                    s.cancel_at, s.canceled_at, s.trial_end, s.last_event_created, s.last_event_id,
                    s.created_at, s.updated_at);
  };
  return fields(*this) == fields(o);
}

bool HasLiveSubscription(const std::optional<Subscription>& current) {
  return current && !current->stripe_subscription_id.empty() && IsLive(current->status);
}

}  // namespace paybell::domain

// Plan and subscription-status vocabulary and the rules on them (entitlement, liveness).
#pragma once

#include <array>
#include <string_view>

#include "paybell/v1/common.pb.h"

namespace paybell::billing {

using v1::Plan;
using v1::SubscriptionStatus;

struct PlanInfo {
  Plan plan;
  std::string_view word;       // stored form: "starter"
  std::string_view name;       // display form: "Starter"
  std::string_view price_env;  // the variable holding its Stripe price id
};

// The three plans, in display order.
const std::array<PlanInfo, 3>& Plans();

// "pro" → PLAN_PRO; anything else → PLAN_UNSPECIFIED.
Plan PlanFromWord(std::string_view word);
// PLAN_PRO → "pro"; PLAN_UNSPECIFIED → "".
std::string_view PlanWord(Plan plan);

// Stripe's status word → enum; unknown words → SUBSCRIPTION_STATUS_UNSPECIFIED.
SubscriptionStatus StatusFromWord(std::string_view word);
// Enum → Stripe's word; NONE and UNSPECIFIED → "".
std::string_view StatusWord(SubscriptionStatus status);

// Whether the tenant may use paid features. ACTIVE and TRIALING are; PAST_DUE is too, because
// Stripe keeps a subscription past_due only while its retry schedule (the grace it allows) is
// running, and moves it to canceled or unpaid when that ends.
bool IsEntitled(SubscriptionStatus status);

// Whether the subscription is live, so a new checkout must go through the portal instead.
bool IsLive(SubscriptionStatus status);

}  // namespace paybell::billing

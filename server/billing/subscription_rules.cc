#include "server/billing/subscription_rules.h"

#include <utility>

namespace paybell::billing {
namespace {

constexpr std::pair<SubscriptionStatus, std::string_view> kStatusWords[] = {
    {v1::SUBSCRIPTION_STATUS_ACTIVE, "active"},
    {v1::SUBSCRIPTION_STATUS_TRIALING, "trialing"},
    {v1::SUBSCRIPTION_STATUS_PAST_DUE, "past_due"},
    {v1::SUBSCRIPTION_STATUS_CANCELED, "canceled"},
    {v1::SUBSCRIPTION_STATUS_UNPAID, "unpaid"},
    {v1::SUBSCRIPTION_STATUS_INCOMPLETE, "incomplete"},
    {v1::SUBSCRIPTION_STATUS_INCOMPLETE_EXPIRED, "incomplete_expired"},
    {v1::SUBSCRIPTION_STATUS_PAUSED, "paused"},
};

}  // namespace

const std::array<PlanInfo, 3>& Plans() {
  static const std::array<PlanInfo, 3> kPlans = {{
      {v1::PLAN_STARTER, "starter", "Starter", "STRIPE_PRICE_STARTER"},
      {v1::PLAN_PRO, "pro", "Pro", "STRIPE_PRICE_PRO"},
      {v1::PLAN_FIRM, "firm", "Firm", "STRIPE_PRICE_FIRM"},
  }};
  return kPlans;
}

Plan PlanFromWord(std::string_view word) {
  for (const PlanInfo& info : Plans()) {
    if (info.word == word) return info.plan;
  }
  return v1::PLAN_UNSPECIFIED;
}

std::string_view PlanWord(Plan plan) {
  for (const PlanInfo& info : Plans()) {
    if (info.plan == plan) return info.word;
  }
  return "";
}

SubscriptionStatus StatusFromWord(std::string_view word) {
  for (const auto& [status, w] : kStatusWords) {
    if (w == word) return status;
  }
  return v1::SUBSCRIPTION_STATUS_UNSPECIFIED;
}

std::string_view StatusWord(SubscriptionStatus status) {
  for (const auto& [s, word] : kStatusWords) {
    if (s == status) return word;
  }
  return "";
}

bool IsEntitled(SubscriptionStatus status) {
  return status == v1::SUBSCRIPTION_STATUS_ACTIVE || status == v1::SUBSCRIPTION_STATUS_TRIALING ||
         status == v1::SUBSCRIPTION_STATUS_PAST_DUE;
}

bool IsLive(SubscriptionStatus status) { return IsEntitled(status); }

}  // namespace paybell::billing

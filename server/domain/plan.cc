#include "server/domain/plan.h"

namespace paybell::domain {

const std::array<PlanInfo, 3>& Plans() {
  static const std::array<PlanInfo, 3> kPlans = {{
      {Plan::kStarter, "starter", "Starter", "STRIPE_PRICE_STARTER"},
      {Plan::kPro, "pro", "Pro", "STRIPE_PRICE_PRO"},
      {Plan::kFirm, "firm", "Firm", "STRIPE_PRICE_FIRM"},
  }};
  return kPlans;
}

std::optional<Plan> PlanFromWord(std::string_view word) {
  if (word.empty()) return Plan::kNone;
  for (const PlanInfo& info : Plans()) {
    if (info.word == word) return info.plan;
  }
  return std::nullopt;
}

std::string_view PlanWord(Plan plan) {
  for (const PlanInfo& info : Plans()) {
    if (info.plan == plan) return info.word;
  }
  return "";
}

}  // namespace paybell::domain

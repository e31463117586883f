// The plans a tenant can buy.
#pragma once

#include <array>
#include <optional>
#include <string_view>

namespace paybell::domain {

enum class Plan { kNone, kStarter, kPro, kFirm };

struct PlanInfo {
  Plan plan;
  std::string_view word;       // stored form: "starter"
  std::string_view name;       // display form: "Starter"
  std::string_view price_env;  // the variable holding its Stripe price id
};

// The three plans that can be bought, in display order.
const std::array<PlanInfo, 3>& Plans();

// "pro" → kPro; "" → kNone; anything else → nullopt.
std::optional<Plan> PlanFromWord(std::string_view word);
// kPro → "pro"; kNone → "".
std::string_view PlanWord(Plan plan);

}  // namespace paybell::domain

#include "server/billing/billing_config.h"

#include "server/billing/subscription_rules.h"

namespace paybell::billing {

const std::string& PriceIdFor(const common::Config& config, v1::Plan plan) {
  static const std::string kNone;
  switch (plan) {
    case v1::PLAN_STARTER:
      return config.stripe_price_starter;
    case v1::PLAN_PRO:
      return config.stripe_price_pro;
    case v1::PLAN_FIRM:
      return config.stripe_price_firm;
    default:
      return kNone;
  }
}

v1::BillingConfig MakeBillingConfig(const common::Config& config) {
  v1::BillingConfig out;
  out.set_stub_mode(config.stripe_stub_mode());
  out.set_test_mode(config.stripe_test_mode());
  out.set_webhooks_configured(!config.stripe_webhook_secrets.empty());
  for (const PlanInfo& info : Plans()) {
    v1::PlanInfo* plan = out.add_plans();
    plan->set_plan(info.plan);
    plan->set_name(std::string(info.name));
    const std::string& price = PriceIdFor(config, info.plan);
    plan->set_price_configured(!price.empty());
    plan->set_price_id(price);
  }
  return out;
}

}  // namespace paybell::billing

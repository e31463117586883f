#include "server/billing/billing_config.h"

#include "server/billing/proto_mapping.h"

namespace paybell::billing {

const std::string& PriceIdFor(const common::Config& config, domain::Plan plan) {
  static const std::string kNone;
  switch (plan) {
    case domain::Plan::kStarter:
      return config.stripe_price_starter;
    case domain::Plan::kPro:
      return config.stripe_price_pro;
    case domain::Plan::kFirm:
      return config.stripe_price_firm;
    case domain::Plan::kNone:
      break;
  }
  return kNone;
}

v1::BillingConfig MakeBillingConfig(const common::Config& config) {
  v1::BillingConfig out;
  out.set_stub_mode(config.stripe_stub_mode());
  out.set_test_mode(config.stripe_test_mode());
  out.set_webhooks_configured(!config.stripe_webhook_secrets.empty());
  for (const domain::PlanInfo& info : domain::Plans()) {
    v1::PlanInfo* plan = out.add_plans();
    plan->set_plan(ToProto(info.plan));
    plan->set_name(std::string(info.name));
    const std::string& price = PriceIdFor(config, info.plan);
    plan->set_price_configured(!price.empty());
    plan->set_price_id(price);
  }
  return out;
}

}  // namespace paybell::billing

// What GetBillingConfig answers: Stripe's mode and which plans can be bought.
#pragma once

#include "paybell/v1/billing.pb.h"
#include "server/common/config.h"
#include "server/domain/plan.h"

namespace paybell::billing {

// The configured Stripe price id of a plan; empty when not configured.
const std::string& PriceIdFor(const common::Config& config, domain::Plan plan);

v1::BillingConfig MakeBillingConfig(const common::Config& config);

}  // namespace paybell::billing

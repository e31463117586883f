// Domain values ↔ the billing protos: the one place BillingService converts them.
#pragma once

#include <optional>
#include <string>

#include "paybell/v1/billing.pb.h"
#include "server/domain/invoice.h"
#include "server/domain/plan.h"
#include "server/domain/subscription.h"

namespace paybell::billing {

// kNone → PLAN_UNSPECIFIED.
v1::Plan ToProto(domain::Plan plan);
// PLAN_STARTER/PRO/FIRM → the plan; anything else → nullopt.
std::optional<domain::Plan> PlanFromProto(v1::Plan plan);

v1::SubscriptionStatus ToProto(domain::SubscriptionStatus status);
// A Stripe status; NONE, UNSPECIFIED and unknown values → nullopt.
std::optional<domain::SubscriptionStatus> StatusFromProto(v1::SubscriptionStatus status);

// A tenant's subscription as the API shows it; a tenant with no row is NONE.
v1::Subscription ToSubscriptionProto(const std::string& tenant_id,
                                     const std::optional<domain::Subscription>& subscription);

v1::InvoiceStatus ToProto(domain::InvoiceStatus status);

// A stored invoice summary as ListInvoices returns it.
v1::Invoice ToInvoiceProto(const domain::Invoice& invoice);

}  // namespace paybell::billing

#include "server/billing/proto_mapping.h"

#include <utility>

#include "server/common/timestamps.h"

namespace paybell::billing {
namespace {

using domain::Plan;
using domain::SubscriptionStatus;

constexpr std::pair<Plan, v1::Plan> kPlans[] = {
    {Plan::kStarter, v1::PLAN_STARTER},
    {Plan::kPro, v1::PLAN_PRO},
    {Plan::kFirm, v1::PLAN_FIRM},
};

constexpr std::pair<SubscriptionStatus, v1::SubscriptionStatus> kStatuses[] = {
    {SubscriptionStatus::kActive, v1::SUBSCRIPTION_STATUS_ACTIVE},
    {SubscriptionStatus::kTrialing, v1::SUBSCRIPTION_STATUS_TRIALING},
    {SubscriptionStatus::kPastDue, v1::SUBSCRIPTION_STATUS_PAST_DUE},
    {SubscriptionStatus::kCanceled, v1::SUBSCRIPTION_STATUS_CANCELED},
    {SubscriptionStatus::kUnpaid, v1::SUBSCRIPTION_STATUS_UNPAID},
    {SubscriptionStatus::kIncomplete, v1::SUBSCRIPTION_STATUS_INCOMPLETE},
    {SubscriptionStatus::kIncompleteExpired, v1::SUBSCRIPTION_STATUS_INCOMPLETE_EXPIRED},
    {SubscriptionStatus::kPaused, v1::SUBSCRIPTION_STATUS_PAUSED},
};

constexpr std::pair<domain::InvoiceStatus, v1::InvoiceStatus> kInvoiceStatuses[] = {
    {domain::InvoiceStatus::kDraft, v1::INVOICE_STATUS_DRAFT},
    {domain::InvoiceStatus::kOpen, v1::INVOICE_STATUS_OPEN},
    {domain::InvoiceStatus::kPaid, v1::INVOICE_STATUS_PAID},
    {domain::InvoiceStatus::kUncollectible, v1::INVOICE_STATUS_UNCOLLECTIBLE},
    {domain::InvoiceStatus::kVoid, v1::INVOICE_STATUS_VOID},
};

}  // namespace

v1::Plan ToProto(Plan plan) {
  for (const auto& [p, proto] : kPlans) {
    if (p == plan) return proto;
  }
  return v1::PLAN_UNSPECIFIED;
}

std::optional<Plan> PlanFromProto(v1::Plan plan) {
  for (const auto& [p, proto] : kPlans) {
    if (proto == plan) return p;
  }
  return std::nullopt;
}

v1::SubscriptionStatus ToProto(SubscriptionStatus status) {
  for (const auto& [s, proto] : kStatuses) {
    if (s == status) return proto;
  }
  return v1::SUBSCRIPTION_STATUS_UNSPECIFIED;
}

std::optional<SubscriptionStatus> StatusFromProto(v1::SubscriptionStatus status) {
  for (const auto& [s, proto] : kStatuses) {
    if (proto == status) return s;
  }
  return std::nullopt;
}

v1::Subscription ToSubscriptionProto(const std::string& tenant_id,
                                     const std::optional<domain::Subscription>& record) {
  v1::Subscription out;
  out.set_tenant_id(tenant_id);
  if (!record) {
    out.set_status(v1::SUBSCRIPTION_STATUS_NONE);
    return out;
  }
  out.set_plan(ToProto(record->plan));
  out.set_status(ToProto(record->status));
  common::SetTimestampIfKnown(record->current_period_start,
                              [&] { return out.mutable_current_period_start(); });
  common::SetTimestampIfKnown(record->current_period_end,
                              [&] { return out.mutable_current_period_end(); });
  out.set_cancel_at_period_end(record->cancel_at_period_end);
  common::SetTimestampIfKnown(record->trial_end, [&] { return out.mutable_trial_end(); });
  out.set_stripe_customer_id(record->stripe_customer_id);
  out.set_stripe_subscription_id(record->stripe_subscription_id);
  out.set_entitled(domain::IsEntitled(record->status));
  common::SetTimestampIfKnown(record->canceled_at, [&] { return out.mutable_canceled_at(); });
  out.mutable_updated_at()->set_seconds(record->updated_at);
  return out;
}

v1::InvoiceStatus ToProto(domain::InvoiceStatus status) {
  for (const auto& [s, proto] : kInvoiceStatuses) {
    if (s == status) return proto;
  }
  return v1::INVOICE_STATUS_UNSPECIFIED;
}

v1::Invoice ToInvoiceProto(const domain::Invoice& record) {
  v1::Invoice out;
  out.set_invoice_id(record.invoice_id);
  out.set_tenant_id(record.tenant_id);
  out.set_number(record.number);
  out.set_status(ToProto(record.status));
  out.set_amount_due(record.amount_due);
  out.set_amount_paid(record.amount_paid);
  out.set_currency(record.currency);
  common::SetTimestampIfKnown(record.period_start, [&] { return out.mutable_period_start(); });
  common::SetTimestampIfKnown(record.period_end, [&] { return out.mutable_period_end(); });
  out.mutable_created()->set_seconds(record.created);
  out.set_hosted_invoice_url(record.hosted_invoice_url);
  out.set_invoice_pdf(record.invoice_pdf);
  out.set_stripe_customer_id(record.stripe_customer_id);
  out.set_stripe_subscription_id(record.stripe_subscription_id);
  out.mutable_updated_at()->set_seconds(record.updated_at);
  return out;
}

}  // namespace paybell::billing

#include "server/billing/billing_service.h"

#include "server/billing/billing_config.h"
#include "server/billing/subscription_rules.h"
#include "server/common/error.h"
#include "server/common/grpc_status.h"
#include "server/common/pagination.h"
#include "server/common/request_id.h"
#include "server/common/timestamps.h"

namespace paybell::billing {

using auth::Action;
using common::Error;
using common::ErrorCode;
using common::GuardHandler;

v1::Subscription ToSubscriptionProto(const std::string& tenant_id,
                                     const std::optional<db::SubscriptionRecord>& record) {
  v1::Subscription out;
  out.set_tenant_id(tenant_id);
  if (!record) {
    out.set_status(v1::SUBSCRIPTION_STATUS_NONE);
    return out;
  }
  const SubscriptionStatus status = StatusFromWord(record->status);
  out.set_plan(PlanFromWord(record->plan));
  out.set_status(status);
  common::SetTimestampIfKnown(record->current_period_start,
                              [&] { return out.mutable_current_period_start(); });
  common::SetTimestampIfKnown(record->current_period_end,
                              [&] { return out.mutable_current_period_end(); });
  out.set_cancel_at_period_end(record->cancel_at_period_end);
  common::SetTimestampIfKnown(record->trial_end, [&] { return out.mutable_trial_end(); });
  out.set_stripe_customer_id(record->stripe_customer_id);
  out.set_stripe_subscription_id(record->stripe_subscription_id);
  out.set_entitled(IsEntitled(status));
  common::SetTimestampIfKnown(record->canceled_at, [&] { return out.mutable_canceled_at(); });
  out.mutable_updated_at()->set_seconds(record->updated_at);
  return out;
}

grpc::Status BillingServiceImpl::CreateCheckoutSession(
    grpc::ServerContext* context, const v1::CreateCheckoutSessionRequest* request,
    v1::CreateCheckoutSessionResponse* response) {
  return GuardHandler("CreateCheckoutSession", [&] {
    const auth::Principal caller =
        auth_.Require(*context, Action::kCreateCheckoutSession, request->tenant_id());
    const CheckoutResult result =
        checkout_.CreateCheckoutSession(caller, request->tenant_id(), request->plan(),
                                        request->coupon_code(), common::RequestIdOf(*context));
    response->set_checkout_url(result.url);
    response->set_session_id(result.session_id);
    response->set_stub(result.stub);
  });
}

grpc::Status BillingServiceImpl::GetPortalLink(grpc::ServerContext* context,
                                               const v1::GetPortalLinkRequest* request,
                                               v1::GetPortalLinkResponse* response) {
  return GuardHandler("GetPortalLink", [&] {
    const auth::Principal caller =
        auth_.Require(*context, Action::kGetPortalLink, request->tenant_id());
    const PortalResult result =
        checkout_.GetPortalLink(caller, request->tenant_id(), common::RequestIdOf(*context));
    response->set_url(result.url);
    response->set_stub(result.stub);
  });
}

grpc::Status BillingServiceImpl::GetSubscription(grpc::ServerContext* context,
                                                 const v1::GetSubscriptionRequest* request,
                                                 v1::Subscription* response) {
  return GuardHandler("GetSubscription", [&] {
    auth_.Require(*context, Action::kReadSubscription, request->tenant_id());
    *response =
        ToSubscriptionProto(request->tenant_id(), subscriptions_.Find(request->tenant_id()));
  });
}

grpc::Status BillingServiceImpl::ListSubscriptions(grpc::ServerContext* context,
                                                   const v1::ListSubscriptionsRequest* request,
                                                   v1::ListSubscriptionsResponse* response) {
  return GuardHandler("ListSubscriptions", [&] {
    auth_.Require(*context, Action::kListSubscriptions, "");
    std::string status;
    if (request->status() != v1::SUBSCRIPTION_STATUS_UNSPECIFIED) {
      status = std::string(StatusWord(request->status()));
      if (status.empty()) {
        throw Error(ErrorCode::kInvalidArgument, "status must be a Stripe subscription status");
      }
    }
    const int page_size = common::PageSize(request->page_size());
    const std::string after = common::DecodePageToken(request->page_token());
    // One extra row tells whether another page follows.
    auto records = subscriptions_.List(status, after, page_size + 1);
    const bool more = static_cast<int>(records.size()) > page_size;
    if (more) records.resize(static_cast<size_t>(page_size));
    for (const auto& record : records) {
      *response->add_subscriptions() = ToSubscriptionProto(record.tenant_id, record);
    }
    if (more) response->set_next_page_token(common::EncodePageToken(records.back().tenant_id));
  });
}

grpc::Status BillingServiceImpl::GetBillingConfig(grpc::ServerContext* context,
                                                  const v1::GetBillingConfigRequest*,
                                                  v1::BillingConfig* response) {
  return GuardHandler("GetBillingConfig", [&] {
    auth_.Require(*context, Action::kReadBillingConfig, "");
    *response = MakeBillingConfig(config_);
  });
}

}  // namespace paybell::billing

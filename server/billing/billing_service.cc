#include "server/billing/billing_service.h"

#include "server/billing/billing_config.h"
#include "server/billing/proto_mapping.h"
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

namespace {

// The caller's gRPC deadline bounds every Stripe call of the operation, less a margin for
// recording the result; no deadline (or a far one) gets the Stripe budget of 25 s.
stripe::Deadline OperationDeadline(const grpc::ServerContext& context) {
  return stripe::OperationDeadline(context.deadline(), std::chrono::seconds(25),
                                   std::chrono::seconds(2));
}

domain::Plan RequirePlan(v1::Plan plan) {
  const auto parsed = PlanFromProto(plan);
  if (!parsed) {
    throw Error(ErrorCode::kInvalidArgument, "plan must be PLAN_STARTER, PLAN_PRO or PLAN_FIRM");
  }
  return *parsed;
}

}  // namespace

grpc::Status BillingServiceImpl::CreateCheckoutSession(
    grpc::ServerContext* context, const v1::CreateCheckoutSessionRequest* request,
    v1::CreateCheckoutSessionResponse* response) {
  return GuardHandler("CreateCheckoutSession", [&] {
    const auth::Principal caller =
        auth_.Require(*context, Action::kCreateCheckoutSession, request->tenant_id());
    const CheckoutResult result = checkout_.CreateCheckoutSession(
        caller, request->tenant_id(), RequirePlan(request->plan()), request->coupon_code(),
        common::RequestIdOf(*context), OperationDeadline(*context));
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
    const PortalResult result = checkout_.GetPortalLink(
        caller, request->tenant_id(), common::RequestIdOf(*context), OperationDeadline(*context));
    response->set_url(result.url);
    response->set_stub(result.stub);
  });
}

grpc::Status BillingServiceImpl::GetSubscription(grpc::ServerContext* context,
                                                 const v1::GetSubscriptionRequest* request,
                                                 v1::Subscription* response) {
  return GuardHandler("GetSubscription", [&] {
    auth_.Require(*context, Action::kReadSubscription, request->tenant_id());
    std::optional<domain::Subscription> found;
    database_.Read("read subscription", [&](db::UnitOfWork& unit) {
      found = unit.subscriptions().Find(request->tenant_id());
    });
    *response = ToSubscriptionProto(request->tenant_id(), found);
  });
}

grpc::Status BillingServiceImpl::ListSubscriptions(grpc::ServerContext* context,
                                                   const v1::ListSubscriptionsRequest* request,
                                                   v1::ListSubscriptionsResponse* response) {
  return GuardHandler("ListSubscriptions", [&] {
    auth_.Require(*context, Action::kListSubscriptions, "");
    std::optional<domain::SubscriptionStatus> status;
    if (request->status() != v1::SUBSCRIPTION_STATUS_UNSPECIFIED) {
      status = StatusFromProto(request->status());
      if (!status) {
        throw Error(ErrorCode::kInvalidArgument, "status must be a Stripe subscription status");
      }
    }
    const int page_size = common::PageSize(request->page_size());
    const std::string after = common::DecodePageToken(request->page_token());
    // One extra row tells whether another page follows.
    std::vector<domain::Subscription> records;
    database_.Read("list subscriptions", [&](db::UnitOfWork& unit) {
      records = unit.subscriptions().List(status, after, page_size + 1);
    });
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

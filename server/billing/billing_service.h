// BillingService handlers: authenticate, authorise, call the billing logic, convert.
#pragma once

#include "server/auth/grpc_auth.h"
#include "server/billing/checkout.h"
#include "server/common/config.h"
#include "db/subscription_repository.h"
#include "paybell/v1/billing.grpc.pb.h"

namespace paybell::billing {

// A tenant's subscription as the API shows it; a tenant with no row is NONE.
v1::Subscription ToSubscriptionProto(const std::string& tenant_id,
                                     const std::optional<db::SubscriptionRecord>& record);

class BillingServiceImpl final : public v1::BillingService::Service {
 public:
  BillingServiceImpl(const auth::Authenticator& auth, db::SubscriptionRepository& subscriptions,
                     CheckoutService& checkout, const common::Config& config)
      : auth_(auth), subscriptions_(subscriptions), checkout_(checkout), config_(config) {}

  grpc::Status CreateCheckoutSession(grpc::ServerContext* context,
                                     const v1::CreateCheckoutSessionRequest* request,
                                     v1::CreateCheckoutSessionResponse* response) override;
  grpc::Status GetPortalLink(grpc::ServerContext* context, const v1::GetPortalLinkRequest* request,
                             v1::GetPortalLinkResponse* response) override;
  grpc::Status GetSubscription(grpc::ServerContext* context,
                               const v1::GetSubscriptionRequest* request,
                               v1::Subscription* response) override;
  grpc::Status ListSubscriptions(grpc::ServerContext* context,
                                 const v1::ListSubscriptionsRequest* request,
                                 v1::ListSubscriptionsResponse* response) override;
  grpc::Status GetBillingConfig(grpc::ServerContext* context,
                                const v1::GetBillingConfigRequest* request,
                                v1::BillingConfig* response) override;

 private:
  const auth::Authenticator& auth_;
  db::SubscriptionRepository& subscriptions_;
  CheckoutService& checkout_;
  const common::Config& config_;
};

}  // namespace paybell::billing

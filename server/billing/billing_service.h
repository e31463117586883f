// BillingService handlers: authenticate, authorise, call the billing logic, convert.
#pragma once

#include "db/unit_of_work.h"
#include "paybell/v1/billing.grpc.pb.h"
#include "server/auth/grpc_auth.h"
#include "server/billing/checkout.h"
#include "server/common/config.h"

namespace paybell::billing {

class BillingServiceImpl final : public v1::BillingService::Service {
 public:
  BillingServiceImpl(const auth::Authenticator& auth, db::Database& database,
                     CheckoutService& checkout, const common::Config& config)
      : auth_(auth), database_(database), checkout_(checkout), config_(config) {}

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
  grpc::Status ListInvoices(grpc::ServerContext* context, const v1::ListInvoicesRequest* request,
                            v1::ListInvoicesResponse* response) override;

 private:
  const auth::Authenticator& auth_;
  db::Database& database_;
  CheckoutService& checkout_;
  const common::Config& config_;
};

}  // namespace paybell::billing

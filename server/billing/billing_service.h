// BillingService handlers: authenticate, authorise, call the billing logic, convert.
#pragma once

#include "db/unit_of_work.h"
#include "paybell/v1/billing.grpc.pb.h"
#include "server/auth/grpc_auth.h"
#include "server/billing/checkout.h"
#include "server/billing/reconcile_runner.h"
#include "server/common/batch_queue.h"
#include "server/common/config.h"

namespace paybell::billing {

// GetSubscription, the hot read, runs on gRPC's callback API: its handler queues the read for
// one of `subscription_readers` threads and returns, so a call waiting for the database holds
// a queue entry, not a thread (see server_app.cc); a reader takes the reads waiting together
// and fetches their rows in one round trip. The other methods are synchronous.
class BillingServiceImpl final
    : public v1::BillingService::WithCallbackMethod_GetSubscription<v1::BillingService::Service> {
 public:
  BillingServiceImpl(const auth::Authenticator& auth, db::Database& database,
                     CheckoutService& checkout, const common::Config& config,
                     size_t subscription_readers, ReconcileRunner* reconcile = nullptr);

  grpc::Status CreateCheckoutSession(grpc::ServerContext* context,
                                     const v1::CreateCheckoutSessionRequest* request,
                                     v1::CreateCheckoutSessionResponse* response) override;
  grpc::Status GetPortalLink(grpc::ServerContext* context, const v1::GetPortalLinkRequest* request,
                             v1::GetPortalLinkResponse* response) override;
  grpc::ServerUnaryReactor* GetSubscription(grpc::CallbackServerContext* context,
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
  grpc::Status ReconcileSubscriptions(grpc::ServerContext* context,
                                      const v1::ReconcileSubscriptionsRequest* request,
                                      v1::ReconcileSubscriptionsResponse* response) override;
  grpc::Status StreamReconcileSubscriptions(
      grpc::ServerContext* context, const v1::ReconcileSubscriptionsRequest* request,
      grpc::ServerWriter<v1::ReconcileProgress>* writer) override;

 private:
  // Authorises and validates a reconcile request and runs it; `progress` sees each step.
  v1::ReconcileSubscriptionsResponse RunReconcile(grpc::ServerContext& context,
                                                  const v1::ReconcileSubscriptionsRequest& request,
                                                  const ReconcileRunner::Progress& progress);

  // One GetSubscription call waiting for a reader; gRPC keeps its pointees alive until Finish.
  struct PendingRead {
    grpc::CallbackServerContext* context;
    const v1::GetSubscriptionRequest* request;
    v1::Subscription* response;
    grpc::ServerUnaryReactor* reactor;
  };
  // Answers every call of `batch`.
  void ReadSubscriptions(std::vector<PendingRead>& batch);
  // One call's read on its own (a batch's fallback).
  grpc::Status ReadSubscription(const PendingRead& read);

  const auth::Authenticator& auth_;
  db::Database& database_;
  CheckoutService& checkout_;
  const common::Config& config_;
  ReconcileRunner* reconcile_;  // null in stub mode
  // Last member: destroyed (its workers joined, every queued read answered) before the rest.
  common::BatchQueue<PendingRead> subscription_reads_;
};

}  // namespace paybell::billing

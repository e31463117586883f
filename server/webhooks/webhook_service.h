// WebhookService handlers. Ingestion and the event RPCs arrive with the webhook issue; until
// then every RPC answers UNIMPLEMENTED (after the caller's access is checked).
#pragma once

#include "auth/grpc_auth.h"
#include "paybell/v1/webhook.grpc.pb.h"

namespace paybell::webhooks {

class WebhookServiceImpl final : public v1::WebhookService::Service {
 public:
  explicit WebhookServiceImpl(const auth::Authenticator& auth) : auth_(auth) {}

  grpc::Status IngestStripeEvent(grpc::ServerContext* context,
                                 const v1::IngestStripeEventRequest* request,
                                 v1::IngestStripeEventResponse* response) override;
  grpc::Status ListEvents(grpc::ServerContext* context, const v1::ListEventsRequest* request,
                          v1::ListEventsResponse* response) override;
  grpc::Status GetEvent(grpc::ServerContext* context, const v1::GetEventRequest* request,
                        v1::Event* response) override;
  grpc::Status ReplayEvent(grpc::ServerContext* context, const v1::ReplayEventRequest* request,
                           v1::Event* response) override;

 private:
  const auth::Authenticator& auth_;
};

}  // namespace paybell::webhooks

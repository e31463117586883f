// WebhookService handlers: Stripe ingestion (authenticated by Stripe's signature) and the
// operator's view of stored events.
#pragma once

#include "server/auth/grpc_auth.h"
#include "db/pool.h"
#include "paybell/v1/webhook.grpc.pb.h"
#include "server/webhooks/event_ingestor.h"

namespace paybell::webhooks {

class WebhookServiceImpl final : public v1::WebhookService::Service {
 public:
  WebhookServiceImpl(const auth::Authenticator& auth, EventIngestor& ingestor,
                     db::ConnectionPool& pool)
      : auth_(auth), ingestor_(ingestor), pool_(pool) {}

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
  EventIngestor& ingestor_;
  db::ConnectionPool& pool_;
};

// "applied" → EVENT_OUTCOME_APPLIED; unknown → UNSPECIFIED.
v1::EventOutcome OutcomeFromWord(const std::string& word);
std::string OutcomeWord(v1::EventOutcome outcome);

}  // namespace paybell::webhooks

// WebhookService handlers: Stripe ingestion (authenticated by Stripe's signature) and the
// operator's view of stored events.
#pragma once

#include "db/unit_of_work.h"
#include "paybell/v1/webhook.grpc.pb.h"
#include "server/auth/grpc_auth.h"
#include "server/domain/event_outcome.h"
#include "server/webhooks/event_ingestor.h"
#include "server/webhooks/sync_runner.h"

namespace paybell::webhooks {

class WebhookServiceImpl final : public v1::WebhookService::Service {
 public:
  // `sync` is null in stub mode (no Stripe account to catch up from).
  WebhookServiceImpl(const auth::Authenticator& auth, EventIngestor& ingestor,
                     db::Database& database, SyncRunner* sync = nullptr)
      : auth_(auth), ingestor_(ingestor), database_(database), sync_(sync) {}

  grpc::Status IngestStripeEvent(grpc::ServerContext* context,
                                 const v1::IngestStripeEventRequest* request,
                                 v1::IngestStripeEventResponse* response) override;
  grpc::Status ListEvents(grpc::ServerContext* context, const v1::ListEventsRequest* request,
                          v1::ListEventsResponse* response) override;
  grpc::Status GetEvent(grpc::ServerContext* context, const v1::GetEventRequest* request,
                        v1::Event* response) override;
  grpc::Status ReplayEvent(grpc::ServerContext* context, const v1::ReplayEventRequest* request,
                           v1::Event* response) override;
  grpc::Status SyncEvents(grpc::ServerContext* context, const v1::SyncEventsRequest* request,
                          v1::SyncEventsResponse* response) override;
  grpc::Status StreamSyncEvents(grpc::ServerContext* context, const v1::SyncEventsRequest* request,
                                grpc::ServerWriter<v1::SyncEventsProgress>* writer) override;

 private:
  // Authorises and validates a catch-up request and runs it; `progress` sees each step.
  v1::SyncEventsResponse RunSync(grpc::ServerContext& context, const v1::SyncEventsRequest& request,
                                 const SyncRunner::Progress& progress);

  const auth::Authenticator& auth_;
  EventIngestor& ingestor_;
  db::Database& database_;
  SyncRunner* sync_;
};

v1::EventOutcome ToProto(domain::EventOutcome outcome);
// nullopt for UNSPECIFIED and values this server does not know.
std::optional<domain::EventOutcome> OutcomeFromProto(v1::EventOutcome outcome);

}  // namespace paybell::webhooks

#include "server/webhooks/webhook_service.h"

#include <utility>

#include "server/common/error.h"
#include "server/common/grpc_status.h"
#include "server/common/pagination.h"
#include "server/common/request_id.h"
#include "server/common/timestamps.h"

namespace paybell::webhooks {

using auth::Action;
using common::Error;
using common::ErrorCode;
using common::GuardHandler;

namespace {

using domain::EventOutcome;

constexpr std::pair<EventOutcome, v1::EventOutcome> kOutcomes[] = {
    {EventOutcome::kApplied, v1::EVENT_OUTCOME_APPLIED},
    {EventOutcome::kDuplicate, v1::EVENT_OUTCOME_DUPLICATE},
    {EventOutcome::kStale, v1::EVENT_OUTCOME_STALE},
    {EventOutcome::kIgnored, v1::EVENT_OUTCOME_IGNORED},
    {EventOutcome::kUnmatched, v1::EVENT_OUTCOME_UNMATCHED},
    {EventOutcome::kFailed, v1::EVENT_OUTCOME_FAILED},
};

constexpr size_t kMaxEventIdBytes = 255;

void EventToProto(const db::EventRecord& e, v1::Event* out) {
  out->set_event_id(e.event_id);
  out->set_type(e.type);
  out->mutable_created()->set_seconds(e.created);
  out->set_tenant_id(e.tenant_id);
  out->set_outcome(ToProto(e.outcome));
  out->set_error(e.error);
  out->mutable_received_at()->set_seconds(e.received_at);
  common::SetTimestampIfKnown(e.processed_at, [&] { return out->mutable_processed_at(); });
  out->set_payload(e.payload);
  out->set_stripe_subscription_id(e.stripe_subscription_id);
  out->set_stripe_customer_id(e.stripe_customer_id);
  out->set_source(e.source == domain::EventSource::kSync ? v1::EVENT_SOURCE_SYNC
                                                         : v1::EVENT_SOURCE_WEBHOOK);
}

void ValidateEventId(const std::string& event_id) {
  if (event_id.empty() || event_id.size() > kMaxEventIdBytes) {
    throw Error(ErrorCode::kInvalidArgument, "event_id is required (evt_…)");
  }
}

// Cursor "received_at:event_id" inside the opaque page token.
std::pair<int64_t, std::string> DecodeCursor(const std::string& token) {
  const std::string key = common::DecodePageToken(token);
  const size_t colon = key.find(':');
  try {
    if (colon == std::string::npos) throw std::invalid_argument("no colon");
    return {std::stoll(key.substr(0, colon)), key.substr(colon + 1)};
  } catch (const std::exception&) {
    throw Error(ErrorCode::kInvalidArgument, "bad page_token");
  }
}

}  // namespace

v1::EventOutcome ToProto(EventOutcome outcome) {
  for (const auto& [domain_outcome, proto] : kOutcomes) {
    if (domain_outcome == outcome) return proto;
  }
  return v1::EVENT_OUTCOME_UNSPECIFIED;
}

std::optional<EventOutcome> OutcomeFromProto(v1::EventOutcome outcome) {
  for (const auto& [domain_outcome, proto] : kOutcomes) {
    if (proto == outcome) return domain_outcome;
  }
  return std::nullopt;
}

grpc::Status WebhookServiceImpl::IngestStripeEvent(grpc::ServerContext* context,
                                                   const v1::IngestStripeEventRequest* request,
                                                   v1::IngestStripeEventResponse* response) {
  // No bearer token: the Stripe signature, checked by the ingestor, is the authentication.
  return GuardHandler("IngestStripeEvent", [&] {
    const IngestResult result = ingestor_.Ingest(request->payload(), request->signature_header(),
                                                 common::RequestIdOf(*context));
    response->set_event_id(result.event_id);
    response->set_outcome(ToProto(result.outcome));
  });
}

grpc::Status WebhookServiceImpl::ListEvents(grpc::ServerContext* context,
                                            const v1::ListEventsRequest* request,
                                            v1::ListEventsResponse* response) {
  return GuardHandler("ListEvents", [&] {
    auth_.Require(*context, Action::kListEvents, "");
    db::EventFilter filter;
    filter.tenant_id = request->tenant_id();
    filter.type = request->type();
    if (request->outcome() != v1::EVENT_OUTCOME_UNSPECIFIED) {
      filter.outcome = OutcomeFromProto(request->outcome());
      if (!filter.outcome) throw Error(ErrorCode::kInvalidArgument, "unknown outcome");
    }
    if (request->has_received_after())
      filter.received_at_or_after = request->received_after().seconds();
    if (request->has_received_before())
      filter.received_before = request->received_before().seconds();
    if (!request->page_token().empty()) filter.before = DecodeCursor(request->page_token());
    const int page_size = common::PageSize(request->page_size());
    filter.limit = page_size + 1;  // one extra row says whether another page follows
    std::vector<db::EventRecord> events;
    database_.Read("list Stripe events",
                   [&](db::UnitOfWork& unit) { events = unit.events().List(filter); });
    const bool more = static_cast<int>(events.size()) > page_size;
    if (more) events.resize(static_cast<size_t>(page_size));
    for (const auto& e : events) EventToProto(e, response->add_events());
    if (more) {
      response->set_next_page_token(common::EncodePageToken(
          std::to_string(events.back().received_at) + ":" + events.back().event_id));
    }
  });
}

grpc::Status WebhookServiceImpl::GetEvent(grpc::ServerContext* context,
                                          const v1::GetEventRequest* request, v1::Event* response) {
  return GuardHandler("GetEvent", [&] {
    auth_.Require(*context, Action::kGetEvent, "");
    ValidateEventId(request->event_id());
    std::optional<db::EventRecord> event;
    database_.Read("read Stripe event", [&](db::UnitOfWork& unit) {
      event = unit.events().Find(request->event_id(), /*with_payload=*/true);
    });
    if (!event) throw Error(ErrorCode::kNotFound, "no stored event " + request->event_id());
    EventToProto(*event, response);
  });
}

grpc::Status WebhookServiceImpl::ReplayEvent(grpc::ServerContext* context,
                                             const v1::ReplayEventRequest* request,
                                             v1::Event* response) {
  return GuardHandler("ReplayEvent", [&] {
    const auth::Principal principal = auth_.Require(*context, Action::kReplayEvent, "");
    ValidateEventId(request->event_id());
    const db::EventRecord event = ingestor_.Replay(
        request->event_id(), {principal.subject, std::string(auth::RoleName(principal.role)),
                              common::RequestIdOf(*context)});
    EventToProto(event, response);
  });
}

v1::SyncEventsResponse WebhookServiceImpl::RunSync(grpc::ServerContext& context,
                                                   const v1::SyncEventsRequest& request,
                                                   const SyncRunner::Progress& progress) {
  const auth::Principal principal = auth_.Require(context, Action::kSyncEvents, "");
  if (sync_ == nullptr) {
    throw Error(ErrorCode::kFailedPrecondition,
                "stub mode: STRIPE_SECRET_KEY is not set, so there is no Stripe account to catch "
                "up from");
  }
  std::optional<int64_t> since;
  if (request.has_since()) {
    if (request.since().seconds() <= 0) {
      throw Error(ErrorCode::kInvalidArgument, "since must be a time after 1970");
    }
    since = request.since().seconds();
  }
  const Actor actor{principal.subject, std::string(auth::RoleName(principal.role)),
                    common::RequestIdOf(context)};
  return sync_->Sync(since, request.dry_run(), actor,
                     [&](const v1::SyncEventsResponse& counts, std::string_view stage) {
                       // A caller gone (deadline, Ctrl-C) stops the run; what is stored stays.
                       if (context.IsCancelled()) {
                         throw Error(ErrorCode::kUnavailable, "catch-up cancelled by the caller");
                       }
                       if (progress) progress(counts, stage);
                     });
}

grpc::Status WebhookServiceImpl::SyncEvents(grpc::ServerContext* context,
                                            const v1::SyncEventsRequest* request,
                                            v1::SyncEventsResponse* response) {
  return GuardHandler("SyncEvents", [&] { *response = RunSync(*context, *request, {}); });
}

grpc::Status WebhookServiceImpl::StreamSyncEvents(
    grpc::ServerContext* context, const v1::SyncEventsRequest* request,
    grpc::ServerWriter<v1::SyncEventsProgress>* writer) {
  return GuardHandler("StreamSyncEvents", [&] {
    v1::SyncEventsProgress message;
    const v1::SyncEventsResponse counts = RunSync(
        *context, *request, [&](const v1::SyncEventsResponse& so_far, std::string_view stage) {
          *message.mutable_counts() = so_far;
          message.set_stage(std::string(stage));
          if (!writer->Write(message)) {
            throw Error(ErrorCode::kUnavailable, "catch-up cancelled: the caller went away");
          }
        });
    *message.mutable_counts() = counts;
    message.set_stage("done");
    message.set_done(true);
    writer->Write(message);
  });
}

}  // namespace paybell::webhooks

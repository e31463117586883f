#include "webhooks/webhook_service.h"

#include "common/error.h"
#include "common/grpc_status.h"

namespace paybell::webhooks {

using auth::Action;
using common::Error;
using common::ErrorCode;
using common::GuardHandler;

namespace {
[[noreturn]] void NotYet(const char* rpc) {
  throw Error(ErrorCode::kUnimplemented,
              std::string(rpc) + " is not implemented yet (Stripe webhooks issue)");
}
}  // namespace

grpc::Status WebhookServiceImpl::IngestStripeEvent(grpc::ServerContext*,
                                                   const v1::IngestStripeEventRequest*,
                                                   v1::IngestStripeEventResponse*) {
  // Authenticated by the Stripe signature, not a token; nothing is accepted before that exists.
  return GuardHandler("IngestStripeEvent", [&] { NotYet("IngestStripeEvent"); });
}

grpc::Status WebhookServiceImpl::ListEvents(grpc::ServerContext* context,
                                            const v1::ListEventsRequest*,
                                            v1::ListEventsResponse*) {
  return GuardHandler("ListEvents", [&] {
    auth_.Require(*context, Action::kListEvents, "");
    NotYet("ListEvents");
  });
}

grpc::Status WebhookServiceImpl::GetEvent(grpc::ServerContext* context, const v1::GetEventRequest*,
                                          v1::Event*) {
  return GuardHandler("GetEvent", [&] {
    auth_.Require(*context, Action::kGetEvent, "");
    NotYet("GetEvent");
  });
}

grpc::Status WebhookServiceImpl::ReplayEvent(grpc::ServerContext* context,
                                             const v1::ReplayEventRequest*, v1::Event*) {
  return GuardHandler("ReplayEvent", [&] {
    auth_.Require(*context, Action::kReplayEvent, "");
    NotYet("ReplayEvent");
  });
}

}  // namespace paybell::webhooks

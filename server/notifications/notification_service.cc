#include "server/notifications/notification_service.h"

#include "server/common/error.h"
#include "server/common/grpc_status.h"

namespace paybell::notifications {

using auth::Action;
using common::Error;
using common::ErrorCode;
using common::GuardHandler;

namespace {
[[noreturn]] void NotYet(const char* rpc) {
  throw Error(ErrorCode::kUnimplemented,
              std::string(rpc) + " is not implemented yet (notifications issue)");
}
}  // namespace

grpc::Status NotificationServiceImpl::GetSettings(grpc::ServerContext* context,
                                                  const v1::GetSettingsRequest* request,
                                                  v1::NotificationSettings*) {
  return GuardHandler("GetSettings", [&] {
    auth_.Require(*context, Action::kReadSettings, request->tenant_id());
    NotYet("GetSettings");
  });
}

grpc::Status NotificationServiceImpl::UpdateSettings(grpc::ServerContext* context,
                                                     const v1::UpdateSettingsRequest* request,
                                                     v1::NotificationSettings*) {
  return GuardHandler("UpdateSettings", [&] {
    auth_.Require(*context, Action::kUpdateSettings, request->settings().tenant_id());
    NotYet("UpdateSettings");
  });
}

grpc::Status NotificationServiceImpl::Emit(grpc::ServerContext* context,
                                           const v1::EmitRequest* request, v1::EmitResponse*) {
  return GuardHandler("Emit", [&] {
    auth_.Require(*context, Action::kEmit, request->tenant_id());
    NotYet("Emit");
  });
}

grpc::Status NotificationServiceImpl::SendTest(grpc::ServerContext* context,
                                               const v1::SendTestRequest* request,
                                               v1::SendTestResponse*) {
  return GuardHandler("SendTest", [&] {
    auth_.Require(*context, Action::kSendTest, request->tenant_id());
    NotYet("SendTest");
  });
}

grpc::Status NotificationServiceImpl::ListLog(grpc::ServerContext* context,
                                              const v1::ListLogRequest* request,
                                              v1::ListLogResponse*) {
  return GuardHandler("ListLog", [&] {
    auth_.Require(*context, Action::kReadNotificationLog, request->tenant_id());
    NotYet("ListLog");
  });
}

}  // namespace paybell::notifications

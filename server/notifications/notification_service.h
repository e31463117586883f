// NotificationService handlers. Settings, triggers and delivery arrive with the notifications
// issue; until then every RPC checks the caller's access and answers UNIMPLEMENTED.
#pragma once

#include "paybell/v1/notification.grpc.pb.h"
#include "server/auth/grpc_auth.h"

namespace paybell::notifications {

class NotificationServiceImpl final : public v1::NotificationService::Service {
 public:
  explicit NotificationServiceImpl(const auth::Authenticator& auth) : auth_(auth) {}

  grpc::Status GetSettings(grpc::ServerContext* context, const v1::GetSettingsRequest* request,
                           v1::NotificationSettings* response) override;
  grpc::Status UpdateSettings(grpc::ServerContext* context,
                              const v1::UpdateSettingsRequest* request,
                              v1::NotificationSettings* response) override;
  grpc::Status Emit(grpc::ServerContext* context, const v1::EmitRequest* request,
                    v1::EmitResponse* response) override;
  grpc::Status SendTest(grpc::ServerContext* context, const v1::SendTestRequest* request,
                        v1::SendTestResponse* response) override;
  grpc::Status ListLog(grpc::ServerContext* context, const v1::ListLogRequest* request,
                       v1::ListLogResponse* response) override;

 private:
  const auth::Authenticator& auth_;
};

}  // namespace paybell::notifications

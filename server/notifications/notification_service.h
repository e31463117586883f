// NotificationService handlers: access checks and proto ↔ domain; the deciding is the
// Emitter's, the sending the Dispatcher's, the validation settings.h's and emit_validation.h's.
#pragma once

#include "db/group_commit.h"
#include "db/unit_of_work.h"
#include "paybell/v1/notification.grpc.pb.h"
#include "server/auth/grpc_auth.h"
#include "server/common/clock.h"
#include "server/common/config.h"
#include "server/notifications/dispatcher.h"
#include "server/notifications/emitter.h"

namespace paybell::notifications {

class NotificationServiceImpl final : public v1::NotificationService::Service {
 public:
  NotificationServiceImpl(const auth::Authenticator& auth, db::Database& database,
                          const common::Config& config, const common::Clock& clock,
                          Emitter& emitter, Dispatcher& dispatcher)
      : auth_(auth),
        database_(database),
        config_(config),
        clock_(clock),
        emitter_(emitter),
        dispatcher_(dispatcher),
        emits_(database, {"emit notifications",
                          // PostgreSQL: several transactions in flight (each spends most of its
                          // time waiting on round trips), half the pool of 8 at most; SQLite
                          // has one writer at a time anyway.
                          config.database.kind == common::DatabaseKind::kPostgres ? 4u : 1u, 64}) {}

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
  db::Database& database_;
  const common::Config& config_;
  const common::Clock& clock_;
  Emitter& emitter_;
  Dispatcher& dispatcher_;
  // Emit calls arriving together share one transaction (one BEGIN, one lock round trip for
  // their tenants, one COMMIT); each is answered once the transaction holding it committed.
  db::GroupCommit emits_;
};

}  // namespace paybell::notifications

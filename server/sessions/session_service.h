// SessionService handlers: proto ↔ BrowserSessions.
#pragma once

#include "paybell/v1/session.grpc.pb.h"
#include "server/auth/grpc_auth.h"
#include "server/sessions/browser_sessions.h"

namespace paybell::sessions {

class SessionServiceImpl final : public v1::SessionService::Service {
 public:
  SessionServiceImpl(const auth::Authenticator& auth, BrowserSessions& sessions)
      : auth_(auth), sessions_(sessions) {}

  grpc::Status StartSession(grpc::ServerContext* context, const v1::StartSessionRequest* request,
                            v1::StartSessionResponse* response) override;
  grpc::Status EndSession(grpc::ServerContext* context, const v1::EndSessionRequest* request,
                          v1::EndSessionResponse* response) override;

 private:
  const auth::Authenticator& auth_;
  BrowserSessions& sessions_;
};

}  // namespace paybell::sessions

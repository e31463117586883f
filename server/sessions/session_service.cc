#include "server/sessions/session_service.h"

#include "server/common/error.h"
#include "server/common/grpc_status.h"

namespace paybell::sessions {

using common::Error;
using common::ErrorCode;
using common::GuardHandler;

grpc::Status SessionServiceImpl::StartSession(grpc::ServerContext* context,
                                              const v1::StartSessionRequest* request,
                                              v1::StartSessionResponse* response) {
  // The login token in the request is the credential: no authorization metadata.
  return GuardHandler("StartSession", [&] {
    const StartedSession started =
        sessions_.Start(request->login_token(), common::RequestIdOf(*context));
    response->set_session_token(started.session_token);
    response->set_csrf_token(started.csrf_token);
    response->mutable_expires_at()->set_seconds(started.principal.expires_at);
    response->set_tenant_id(started.principal.tenant_id);
    response->set_subject(started.principal.subject);
    response->set_role(std::string(auth::RoleName(started.principal.role)));
  });
}

grpc::Status SessionServiceImpl::EndSession(grpc::ServerContext* context,
                                            const v1::EndSessionRequest* /*request*/,
                                            v1::EndSessionResponse* /*response*/) {
  return GuardHandler("EndSession", [&] {
    // Signing out twice (two tabs, a double click) answers OK both times.
    const auth::Principal caller = auth_.AuthenticateEvenIfSessionEnded(*context);
    if (caller.session_id.empty()) {
      throw Error(ErrorCode::kInvalidArgument, "EndSession needs a browser session token");
    }
    sessions_.End(caller, common::RequestIdOf(*context));
  });
}

}  // namespace paybell::sessions

// Reads and verifies the bearer token of a gRPC call.
#pragma once

#include <grpcpp/server_context.h>

#include "server/auth/jwt.h"
#include "server/auth/rbac.h"
#include "server/auth/session_checker.h"
#include "server/common/clock.h"

namespace paybell::auth {

class Authenticator {
 public:
  // `sessions` is asked only about tokens that carry a session id (browser sessions); other
  // tokens cost no lookup.
  Authenticator(const JwtVerifier& verifier, const SessionChecker& sessions,
                const common::Clock& clock)
      : verifier_(verifier), sessions_(sessions), clock_(clock) {}

  // Throws common::Error(kUnauthenticated) when the "authorization: Bearer …" metadata is
  // missing, its token does not verify, it is a sign-in link's token, or it is a browser
  // session token whose session has ended or expired.
  Principal Authenticate(const grpc::ServerContextBase& context) const;

  // Authenticate, except that a browser session token's session may have ended already: for
  // ending it, which is harmless to repeat.
  Principal AuthenticateEvenIfSessionEnded(const grpc::ServerContextBase& context) const;

  // Authenticate, then Authorize(action, tenant_id); returns the principal.
  Principal Require(const grpc::ServerContextBase& context, Action action,
                    std::string_view tenant_id) const;

 private:
  const JwtVerifier& verifier_;
  const SessionChecker& sessions_;
  const common::Clock& clock_;
};

}  // namespace paybell::auth

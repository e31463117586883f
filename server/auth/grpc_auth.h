// Reads and verifies the bearer token of a gRPC call.
#pragma once

#include <grpcpp/server_context.h>

#include "server/auth/jwt.h"
#include "server/auth/rbac.h"

namespace paybell::auth {

class Authenticator {
 public:
  explicit Authenticator(const JwtVerifier& verifier) : verifier_(verifier) {}

  // Throws common::Error(kUnauthenticated) when the "authorization: Bearer …" metadata is
  // missing or its token does not verify.
  Principal Authenticate(const grpc::ServerContext& context) const;

  // Authenticate, then Authorize(action, tenant_id); returns the principal.
  Principal Require(const grpc::ServerContext& context, Action action,
                    std::string_view tenant_id) const;

 private:
  const JwtVerifier& verifier_;
};

}  // namespace paybell::auth

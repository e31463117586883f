#include "server/auth/grpc_auth.h"

#include "server/common/error.h"
#include "server/common/validation.h"

namespace paybell::auth {
namespace {

using common::Error;
using common::ErrorCode;

// The bearer token's principal; sign-in link tokens are refused here, once for every caller.
Principal VerifyBearer(const grpc::ServerContextBase& context, const JwtVerifier& verifier) {
  const auto& metadata = context.client_metadata();
  const auto it = metadata.find("authorization");
  if (it == metadata.end()) {
    throw Error(ErrorCode::kUnauthenticated, "missing 'authorization: Bearer <token>' metadata");
  }
  const std::string_view value(it->second.data(), it->second.size());
  constexpr std::string_view kPrefix = "Bearer ";
  if (value.size() <= kPrefix.size() || value.substr(0, kPrefix.size()) != kPrefix) {
    throw Error(ErrorCode::kUnauthenticated, "authorization metadata must be 'Bearer <token>'");
  }
  Principal principal = verifier.Verify(value.substr(kPrefix.size()));
  // A sign-in link travels in URLs (mail, browser history): it may start a session and do
  // nothing else. Any other purpose is not one this server knows to be a bearer token.
  if (principal.purpose == "login") {
    throw Error(ErrorCode::kUnauthenticated, "a sign-in link token only starts a browser session");
  }
  if (!principal.purpose.empty()) {
    throw Error(ErrorCode::kUnauthenticated, "this token is not a bearer token");
  }
  return principal;
}

}  // namespace

Principal Authenticator::Authenticate(const grpc::ServerContextBase& context) const {
  Principal principal = VerifyBearer(context, verifier_);
  if (!principal.session_id.empty() && !sessions_.IsActive(principal, clock_.NowUnix())) {
    throw Error(ErrorCode::kUnauthenticated, "your session has ended; sign in again");
  }
  return principal;
}

Principal Authenticator::AuthenticateEvenIfSessionEnded(
    const grpc::ServerContextBase& context) const {
  return VerifyBearer(context, verifier_);
}

Principal Authenticator::Require(const grpc::ServerContextBase& context, Action action,
                                 std::string_view tenant_id) const {
  Principal principal = Authenticate(context);
  if (IsTenantScoped(action)) common::ValidateTenantId(tenant_id);
  Authorize(principal, action, tenant_id);
  return principal;
}

}  // namespace paybell::auth

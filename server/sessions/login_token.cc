#include "server/sessions/login_token.h"

#include "server/common/error.h"

namespace paybell::sessions {
namespace {

using common::Error;
using common::ErrorCode;

[[noreturn]] void Refuse(const char* why) { throw Error(ErrorCode::kUnauthenticated, why); }

}  // namespace

void CheckLoginClaims(const auth::Principal& principal, int64_t now) {
  const bool tenant_role = principal.role == auth::Role::kOwner ||
                           principal.role == auth::Role::kAdmin ||
                           principal.role == auth::Role::kMember;
  if (!tenant_role || principal.all_tenants()) {
    Refuse("a sign-in link is for a tenant's owner, admin or member");
  }
  if (!principal.session_id.empty()) Refuse("a session token is not a sign-in link");
  if (!principal.purpose.empty() && principal.purpose != "login") {
    Refuse("this token is not a sign-in link");
  }
  if (principal.token_id.empty()) Refuse("this sign-in link has no id (jti); ask for a new one");
  // Links travel through mail and browser history: only short-lived ones may open a session.
  if (principal.expires_at - now > kMaxLoginTokenLifetimeS + kLoginClockSkewS ||
      (principal.issued_at &&
       principal.expires_at - *principal.issued_at > kMaxLoginTokenLifetimeS)) {
    Refuse("this sign-in link lives longer than 15 minutes; ask for a new one");
  }
}

auth::Principal LoginTokenVerifier::Verify(std::string_view token) const {
  if (token.empty()) throw Error(ErrorCode::kInvalidArgument, "login_token is required");
  auth::Principal principal;
  try {
    principal = verifier_.Verify(token);
  } catch (const auth::ExpiredToken&) {
    Refuse("this sign-in link has expired");
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kUnauthenticated) throw;
    Refuse("this sign-in link is not valid");
  }
  CheckLoginClaims(principal, clock_.NowUnix());
  return principal;
}

}  // namespace paybell::sessions

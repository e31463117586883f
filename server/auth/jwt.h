// HS256 JSON Web Tokens: verification of callers' tokens and minting for paybellctl and tests.
#pragma once

#include <string>
#include <string_view>

#include "server/auth/principal.h"
#include "server/common/clock.h"
#include "server/common/error.h"

namespace paybell::auth {

// The one refusal a caller may want to tell apart (a sign-in link that expired); still an
// UNAUTHENTICATED common::Error for everyone else.
class ExpiredToken : public common::Error {
 public:
  ExpiredToken() : common::Error(common::ErrorCode::kUnauthenticated, "invalid token: expired") {}
};

class JwtVerifier {
 public:
  JwtVerifier(std::string secret, const common::Clock& clock)
      : secret_(std::move(secret)), clock_(clock) {}

  // Checks signature (HS256 only: "none" and every other algorithm are refused), exp (required),
  // nbf (when present) and the claims. The optional claims sid, jti and purpose must be 1–128
  // printable ASCII characters. Throws common::Error(kUnauthenticated) with a reason
  // (ExpiredToken when exp has passed).
  Principal Verify(std::string_view token) const;

 private:
  std::string secret_;
  const common::Clock& clock_;
};

// Mints an HS256 token carrying sub, tenant_id, role, iat, exp and, when the principal has them,
// act.sub, sid, jti and purpose.
std::string SignToken(const std::string& secret, const Principal& principal, int64_t issued_at);

// A browser session token (SessionService): SignToken's claims plus the session's CSRF token as
// claim "csrf". The principal must carry a session_id.
std::string SignSessionToken(const std::string& secret, const Principal& principal,
                             int64_t issued_at, const std::string& csrf_token);

}  // namespace paybell::auth

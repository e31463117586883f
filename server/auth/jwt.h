// HS256 JSON Web Tokens: verification of callers' tokens and minting for paybellctl and tests.
#pragma once

#include <string>
#include <string_view>

#include "server/auth/principal.h"
#include "server/common/clock.h"

namespace paybell::auth {

class JwtVerifier {
 public:
  JwtVerifier(std::string secret, const common::Clock& clock)
      : secret_(std::move(secret)), clock_(clock) {}

  // Checks signature (HS256 only: "none" and every other algorithm are refused), exp (required),
  // nbf (when present) and the claims. Throws common::Error(kUnauthenticated) with a reason.
  Principal Verify(std::string_view token) const;

 private:
  std::string secret_;
  const common::Clock& clock_;
};

// Mints an HS256 token carrying sub, tenant_id, role, iat, exp and, when the principal has an
// actor, act.sub.
std::string SignToken(const std::string& secret, const Principal& principal, int64_t issued_at);

}  // namespace paybell::auth

// The rules a sign-in link's token must pass before it starts a browser session.
#pragma once

#include <cstdint>
#include <string_view>

#include "server/auth/jwt.h"
#include "server/common/clock.h"

namespace paybell::sessions {

// A sign-in link lives at most this long (from its iat, and from now).
inline constexpr int64_t kMaxLoginTokenLifetimeS = 15 * 60;
// How far ahead of ours the minting machine's clock may run.
inline constexpr int64_t kLoginClockSkewS = 5;

// Throws common::Error(kUnauthenticated) with a short reason unless the verified `principal` is
// fit to start a session at `now`: a tenant role (owner, admin, member) of one tenant, a jti,
// no session id (a session token is no sign-in link), purpose "login" or none, and a lifetime
// of at most 15 minutes.
void CheckLoginClaims(const auth::Principal& principal, int64_t now);

class LoginTokenVerifier {
 public:
  LoginTokenVerifier(const auth::JwtVerifier& verifier, const common::Clock& clock)
      : verifier_(verifier), clock_(clock) {}

  // Verifies the token (HS256, signature, exp) and CheckLoginClaims; returns its principal.
  // Messages are for the person who clicked the link and never repeat the token.
  auth::Principal Verify(std::string_view token) const;

 private:
  const auth::JwtVerifier& verifier_;
  const common::Clock& clock_;
};

}  // namespace paybell::sessions

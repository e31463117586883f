// HS256 JSON Web Tokens: verification of callers' tokens and minting for paybellctl and tests.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "server/auth/principal.h"
#include "server/common/clock.h"
#include "server/common/error.h"

// OpenSSL's keyed MAC state (openssl/types.h), kept opaque here.
typedef struct evp_mac_ctx_st EVP_MAC_CTX;

namespace paybell::auth {

// The one refusal a caller may want to tell apart (a sign-in link that expired); still an
// UNAUTHENTICATED common::Error for everyone else.
class ExpiredToken : public common::Error {
 public:
  ExpiredToken() : common::Error(common::ErrorCode::kUnauthenticated, "invalid token: expired") {}
};

// Verifies the tokens of one key. Keys HMAC-SHA256 once, at construction; every Verify copies
// that keyed state, so a call pays for hashing the token and nothing else. Safe to call from
// many threads at once.
class JwtVerifier {
 public:
  JwtVerifier(const std::string& secret, const common::Clock& clock);
  ~JwtVerifier();
  JwtVerifier(const JwtVerifier&) = delete;
  JwtVerifier& operator=(const JwtVerifier&) = delete;

  // Checks the compact form (three base64url segments), the header (alg exactly "HS256"; "none"
  // and every other algorithm refused; typ, when present, "JWT"; no crit), the signature
  // (constant-time), exp (required), nbf and iat (when present) and the claims. The optional
  // claims sid, jti and purpose must be 1–128 printable ASCII characters. Header and claims are
  // JSON objects parsed once each; a name that appears twice in one object is refused (RFC 7515
  // §4: which of the two counts would depend on the parser). Throws
  // common::Error(kUnauthenticated) with a reason (ExpiredToken when exp has passed).
  Principal Verify(std::string_view token) const;

 private:
  struct MacContextFree {
    void operator()(EVP_MAC_CTX* context) const;
  };
  std::unique_ptr<EVP_MAC_CTX, MacContextFree> keyed_mac_;
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

// Starting and ending browser sessions: a sign-in link's token in, a session token out, each
// recorded in web_sessions and the audit log.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "db/unit_of_work.h"
#include "server/auth/principal.h"
#include "server/common/clock.h"
#include "server/sessions/login_token.h"

namespace paybell::sessions {

// A session ends by itself this long after it started.
inline constexpr int64_t kSessionLifetimeS = 12 * 3600;
// Rows of expired sessions are kept this long (so a late sign-out still finds its row), then
// deleted by the next session start.
inline constexpr int64_t kExpiredSessionRetentionS = 3600;

struct StartedSession {
  std::string session_token;  // claims sub, tenant_id, role, iat, exp, sid, csrf
  std::string csrf_token;
  auth::Principal principal;  // subject, tenant_id, role, expires_at, session_id
};

class BrowserSessions {
 public:
  BrowserSessions(db::Database& database, const LoginTokenVerifier& login_tokens,
                  std::string jwt_secret, const common::Clock& clock)
      : database_(database),
        login_tokens_(login_tokens),
        jwt_secret_(std::move(jwt_secret)),
        clock_(clock) {}

  // Exchanges a sign-in link's token for a new session. Throws common::Error: kUnauthenticated
  // when the token fails the login rules or started a session before.
  StartedSession Start(std::string_view login_token, const std::string& request_id);

  // Ends the session of a session token's principal; true when this call ended it (false when
  // it had ended, or expired and was deleted, before).
  bool End(const auth::Principal& session, const std::string& request_id);

 private:
  db::Database& database_;
  const LoginTokenVerifier& login_tokens_;
  std::string jwt_secret_;
  const common::Clock& clock_;
};

}  // namespace paybell::sessions

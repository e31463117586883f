#include "server/sessions/browser_sessions.h"

#include <nlohmann/json.hpp>

#include "server/auth/jwt.h"
#include "server/common/encoding.h"
#include "server/common/error.h"

namespace paybell::sessions {
namespace {

using common::Error;
using common::ErrorCode;

// 256 bits each: neither can be guessed.
constexpr size_t kRandomIdBytes = 32;

// Names the person and role; never a token, a session id or a CSRF token.
db::AuditEntry SessionAudit(const auth::Principal& principal, const std::string& action,
                            const std::string& request_id, int64_t now) {
  db::AuditEntry entry;
  entry.at = now;
  entry.actor = principal.subject;
  entry.actor_role = std::string(auth::RoleName(principal.role));
  entry.tenant_id = principal.tenant_id;
  entry.action = action;
  entry.target = principal.subject;
  entry.detail = nlohmann::json{{"role", auth::RoleName(principal.role)}}.dump();
  entry.request_id = request_id;
  return entry;
}

}  // namespace

StartedSession BrowserSessions::Start(std::string_view login_token, const std::string& request_id) {
  const auth::Principal link = login_tokens_.Verify(login_token);
  const int64_t now = clock_.NowUnix();

  StartedSession started;
  auth::Principal& session = started.principal;
  session.subject = link.subject;
  session.tenant_id = link.tenant_id;
  session.role = link.role;
  session.expires_at = now + kSessionLifetimeS;
  session.session_id = common::RandomBase64Url(kRandomIdBytes);
  started.csrf_token = common::RandomBase64Url(kRandomIdBytes);

  db::WebSession row;
  row.session_id = session.session_id;
  row.login_jti = link.token_id;
  row.tenant_id = session.tenant_id;
  row.subject = session.subject;
  row.role = session.role;
  row.created_at = now;
  row.expires_at = session.expires_at;
  database_.Transact("start a browser session", [&](db::UnitOfWork& unit) {
    unit.sessions().PurgeExpired(now - kExpiredSessionRetentionS);
    if (!unit.sessions().Insert(row)) {
      // The unit runs again when the connection was lost while its COMMIT's answer was on the
      // way (Database::Transact): finding this start's own row means the first run committed,
      // not that someone else used the link.
      const auto own = unit.sessions().Find(row.session_id);
      if (!own || own->login_jti != row.login_jti) {
        throw Error(ErrorCode::kUnauthenticated, "this sign-in link was already used");
      }
      unit.Commit();
      return;
    }
    unit.audit().Append(SessionAudit(session, "session.started", request_id, now));
    unit.Commit();
  });
  started.session_token = auth::SignSessionToken(jwt_secret_, session, now, started.csrf_token);
  return started;
}

bool BrowserSessions::End(const auth::Principal& session, const std::string& request_id) {
  const int64_t now = clock_.NowUnix();
  bool ended = false;
  database_.Transact("end a browser session", [&](db::UnitOfWork& unit) {
    ended = unit.sessions().End(session.session_id, now);
    // Ending an ended session changes nothing and is not audited twice.
    if (ended) unit.audit().Append(SessionAudit(session, "session.ended", request_id, now));
    unit.Commit();
  });
  return ended;
}

}  // namespace paybell::sessions

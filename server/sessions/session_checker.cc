#include "server/sessions/session_checker.h"

namespace paybell::sessions {

bool SessionCovers(const db::WebSession& session, const auth::Principal& principal, int64_t now) {
  return !session.ended_at && session.expires_at > now &&
         session.session_id == principal.session_id && session.tenant_id == principal.tenant_id &&
         session.subject == principal.subject && session.role == principal.role;
}

bool DatabaseSessionChecker::IsActive(const auth::Principal& principal, int64_t now) const {
  std::optional<db::WebSession> session;
  database_.Read("check a browser session", [&](db::UnitOfWork& unit) {
    session = unit.sessions().Find(principal.session_id);
  });
  return session && SessionCovers(*session, principal, now);
}

}  // namespace paybell::sessions

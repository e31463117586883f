// The SessionChecker of server/auth over the database: one read of web_sessions per call made
// with a browser session token.
#pragma once

#include "db/session_repository.h"
#include "db/unit_of_work.h"
#include "server/auth/session_checker.h"

namespace paybell::sessions {

// Whether `session` is live at `now` and is the one `principal`'s token was issued for.
bool SessionCovers(const db::WebSession& session, const auth::Principal& principal, int64_t now);

class DatabaseSessionChecker final : public auth::SessionChecker {
 public:
  explicit DatabaseSessionChecker(db::Database& database) : database_(database) {}
  bool IsActive(const auth::Principal& principal, int64_t now) const override;

 private:
  db::Database& database_;
};

}  // namespace paybell::sessions

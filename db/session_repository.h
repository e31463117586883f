// web_sessions: browser sessions started from sign-in links.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "server/auth/principal.h"

namespace paybell::db {

struct WebSession {
  std::string session_id;
  std::string login_jti;
  std::string tenant_id;
  std::string subject;
  auth::Role role = auth::Role::kMember;
  int64_t created_at = 0;
  int64_t expires_at = 0;
  std::optional<int64_t> ended_at;
};

class SessionRepository {
 public:
  virtual ~SessionRepository() = default;
  // Records a new session. Returns false (and writes nothing) when a session was already
  // started with this login_jti: the sign-in link was used before.
  virtual bool Insert(const WebSession& session) = 0;
  virtual std::optional<WebSession> Find(const std::string& session_id) = 0;
  // Sets ended_at unless already set; returns whether this call ended it.
  virtual bool End(const std::string& session_id, int64_t now) = 0;
  // Deletes sessions that expired before `expired_before`; returns how many.
  virtual int64_t PurgeExpired(int64_t expired_before) = 0;
};

}  // namespace paybell::db

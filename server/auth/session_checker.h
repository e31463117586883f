// Whether a browser session token's session is still live; implemented over the database
// (server/sessions), so server/auth needs no storage.
#pragma once

#include <cstdint>

#include "server/auth/principal.h"

namespace paybell::auth {

class SessionChecker {
 public:
  virtual ~SessionChecker() = default;
  // Whether session principal.session_id exists, has not ended, has not expired at `now`, and
  // belongs to the principal's tenant, subject and role. May throw common::Error
  // (kUnavailable when the database is down).
  virtual bool IsActive(const Principal& principal, int64_t now) const = 0;
};

}  // namespace paybell::auth

// Sign-in links as paybellctl prints them: <app url>/login?token=<JWT of at most 15 minutes,
// with a random jti and purpose "login">.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "server/auth/principal.h"
#include "server/common/config.h"

namespace paybell::sessions {

struct LoginLinkRequest {
  std::string tenant_id;
  std::string email;
  std::string role;     // owner | admin | member
  int64_t ttl_s = 900;  // 1..900
};

// An email address as a link's subject: one '@' with text on both sides, no whitespace or
// control characters, at most 254 characters. Throws common::Error(kInvalidArgument).
void ValidateEmail(std::string_view email);

// Where links lead: `app_url_flag` when given (http or https), else EffectiveAppUrl of the
// configuration. Throws common::Error(kInvalidArgument) when neither names a page that will
// answer (the adapter disabled, or listening on port 0, without APP_URL).
std::string LoginLinkBase(const common::Config& config, const std::string& app_url_flag);

// Checks the request and returns `<base>/login?token=<token>`; the token is signed with
// `jwt_secret` at `now`. Throws common::Error(kInvalidArgument) naming the bad option.
std::string MintLoginLink(const std::string& base, const LoginLinkRequest& request,
                          const std::string& jwt_secret, int64_t now);

}  // namespace paybell::sessions

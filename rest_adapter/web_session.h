// Browser sessions as the adapter sees them: the session cookie, the claims it reads from the
// session token (without verifying them: every call made with the token is verified by the
// server, and an ended session is refused there), and the CSRF check of state-changing
// requests.
#pragma once

#include <httplib.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace paybell::rest {

// The cookie's name: with the __Host- prefix when the pages are served over https, so no
// sibling subdomain or plain-http page can set or shadow it (the browser only accepts such a
// cookie Secure, Path=/ and without Domain).
inline constexpr char kSessionCookie[] = "paybell_session";
inline constexpr char kSecureSessionCookie[] = "__Host-paybell_session";
inline constexpr char kCsrfField[] = "csrf_token";
inline constexpr char kCsrfHeader[] = "X-CSRF-Token";

// Whether `token` has a JWT's shape and alphabet: base64url segments and dots, at most 8 KiB.
// Anything else never reaches gRPC metadata (gRPC aborts the process on a metadata value
// outside printable ASCII).
bool IsTokenText(std::string_view token);

// The claims of a JWT's payload, unverified; nullopt when it is not a JWT with a JSON object.
std::optional<nlohmann::json> UnverifiedClaims(std::string_view token);

struct BrowserSession {
  std::string token;  // the session JWT, forwarded as the bearer of every gRPC call
  std::string tenant_id;
  std::string subject;
  std::string role;  // owner | admin | member
  std::string csrf;
  int64_t expires_at = 0;
};

// The session named by the request's cookie (kSecureSessionCookie when `secure`); nullopt
// without one (or with a value that is not a session token at all).
std::optional<BrowserSession> SessionFromRequest(const httplib::Request& req, bool secure);

// A link Paybell may send a browser to (an invoice's page or PDF, a checkout or portal URL):
// https, or http to a loopback host (local stand-ins); never javascript:, data: or the like.
bool IsSafeLink(std::string_view url);

// "scheme://host[:port]" of an http(s) URL, lowercased, the default port left out; nullopt
// when `url` is not one.
std::optional<std::string> OriginOf(std::string_view url);

enum class CsrfVerdict {
  kOk,
  kMissingToken,   // no csrf_token field and no X-CSRF-Token header
  kWrongToken,     // not this session's token
  kNoOrigin,       // neither Origin nor Referer
  kForeignOrigin,  // Origin (or Referer) is not APP_URL's origin
};
std::string_view CsrfVerdictText(CsrfVerdict verdict);

// A request made with `session` must carry the session's CSRF token (form field csrf_token or
// header X-CSRF-Token; compared in constant time). A state-changing one (`require_origin`) must
// also come from `app_origin` (Origin, else Referer); browsers leave Origin off same-origin GETs.
CsrfVerdict CheckCsrf(const httplib::Request& req, const BrowserSession& session,
                      const std::string& app_origin, bool require_origin = true);

// Set-Cookie values: the session cookie (HttpOnly, SameSite=Lax, Path=/, Max-Age; Secure and
// named kSecureSessionCookie when the pages are served over https), and one that clears it.
std::string SessionCookie(const std::string& token, int64_t max_age_s, bool secure);
std::string ClearedSessionCookie(bool secure);

}  // namespace paybell::rest

#include "rest_adapter/web_session.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <cctype>

#include "server/common/encoding.h"
#include "server/common/url.h"

namespace paybell::rest {
namespace {

constexpr size_t kMaxTokenBytes = 8192;

std::string StringClaim(const nlohmann::json& claims, const char* name) {
  const auto it = claims.find(name);
  return it != claims.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The value of cookie `name` in a Cookie header ("a=1; b=2"); the first one wins.
std::optional<std::string> CookieValue(const std::string& header, std::string_view name) {
  size_t pos = 0;
  while (pos < header.size()) {
    size_t end = header.find(';', pos);
    if (end == std::string::npos) end = header.size();
    std::string_view pair(header.data() + pos, end - pos);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    const size_t eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
      std::string_view value = pair.substr(eq + 1);
      while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
      return std::string(value);
    }
    pos = end + 1;
  }
  return std::nullopt;
}

bool SameToken(const std::string& given, const std::string& expected) {
  return !expected.empty() && given.size() == expected.size() &&
         CRYPTO_memcmp(given.data(), expected.data(), expected.size()) == 0;
}

}  // namespace

bool IsTokenText(std::string_view token) {
  return !token.empty() && token.size() <= kMaxTokenBytes &&
         std::all_of(token.begin(), token.end(), [](unsigned char c) {
           return std::isalnum(c) || c == '-' || c == '_' || c == '.';
         });
}

std::optional<nlohmann::json> UnverifiedClaims(std::string_view token) {
  if (!IsTokenText(token)) return std::nullopt;
  const size_t first = token.find('.');
  if (first == std::string_view::npos) return std::nullopt;
  const size_t second = token.find('.', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  const auto payload = common::Base64UrlDecode(token.substr(first + 1, second - first - 1));
  if (!payload) return std::nullopt;
  nlohmann::json claims = nlohmann::json::parse(*payload, nullptr, false);
  if (!claims.is_object()) return std::nullopt;
  return claims;
}

std::optional<BrowserSession> SessionFromRequest(const httplib::Request& req, bool secure) {
  const auto value =
      CookieValue(req.get_header_value("Cookie"), secure ? kSecureSessionCookie : kSessionCookie);
  if (!value || value->empty()) return std::nullopt;
  const auto claims = UnverifiedClaims(*value);
  if (!claims) return std::nullopt;
  BrowserSession session;
  session.token = *value;
  session.tenant_id = StringClaim(*claims, "tenant_id");
  session.subject = StringClaim(*claims, "sub");
  session.role = StringClaim(*claims, "role");
  session.csrf = StringClaim(*claims, "csrf");
  const auto exp = claims->find("exp");
  if (exp != claims->end() && exp->is_number_integer()) session.expires_at = exp->get<int64_t>();
  // Only session tokens (sid and csrf claims) make a browser session; anything else in the
  // cookie is treated as no session.
  if (StringClaim(*claims, "sid").empty() || session.csrf.empty() || session.tenant_id.empty()) {
    return std::nullopt;
  }
  return session;
}

std::optional<std::string> OriginOf(std::string_view url) {
  const auto parsed = common::ParseUrl(url);
  if (!parsed || (parsed->scheme != "http" && parsed->scheme != "https") || parsed->host.empty()) {
    return std::nullopt;
  }
  std::string origin = parsed->scheme + "://";
  origin += parsed->host.find(':') != std::string::npos ? "[" + parsed->host + "]" : parsed->host;
  const int default_port = parsed->scheme == "https" ? 443 : 80;
  if (parsed->port && *parsed->port != default_port) {
    origin += ":" + std::to_string(*parsed->port);
  }
  return origin;
}

std::string_view CsrfVerdictText(CsrfVerdict verdict) {
  switch (verdict) {
    case CsrfVerdict::kOk:
      return "ok";
    case CsrfVerdict::kMissingToken:
      return "the form carried no CSRF token";
    case CsrfVerdict::kWrongToken:
      return "the form's CSRF token does not belong to this session";
    case CsrfVerdict::kNoOrigin:
      return "the request named no Origin or Referer";
    case CsrfVerdict::kForeignOrigin:
      return "the request came from another site";
  }
  return "refused";
}

CsrfVerdict CheckCsrf(const httplib::Request& req, const BrowserSession& session,
                      const std::string& app_origin, bool require_origin) {
  // Where the request comes from first: a foreign page gets the same answer whether or not it
  // guessed a token.
  std::string from = req.get_header_value("Origin");
  if (from.empty()) from = req.get_header_value("Referer");
  if (require_origin && from.empty()) return CsrfVerdict::kNoOrigin;
  if (!from.empty()) {
    const auto origin = OriginOf(from);
    if (!origin || *origin != app_origin) return CsrfVerdict::kForeignOrigin;
  }

  std::string token = req.get_header_value(kCsrfHeader);
  if (token.empty() && req.has_param(kCsrfField)) token = req.get_param_value(kCsrfField);
  if (token.empty()) return CsrfVerdict::kMissingToken;
  if (!SameToken(token, session.csrf)) return CsrfVerdict::kWrongToken;
  return CsrfVerdict::kOk;
}

bool IsSafeLink(std::string_view url) {
  if (url.empty() || url.size() > 2048) return false;
  if (!std::all_of(url.begin(), url.end(), [](unsigned char c) { return c > 0x20 && c < 0x7f; })) {
    return false;
  }
  const auto parsed = common::ParseUrl(url);
  if (!parsed || parsed->host.empty()) return false;
  return parsed->scheme == "https" ||
         (parsed->scheme == "http" && common::IsLoopbackHost(parsed->host));
}

std::string SessionCookie(const std::string& token, int64_t max_age_s, bool secure) {
  std::string cookie = std::string(secure ? kSecureSessionCookie : kSessionCookie) + "=" + token +
                       "; Path=/; HttpOnly; SameSite=Lax; Max-Age=" +
                       std::to_string(std::max<int64_t>(0, max_age_s));
  if (secure) cookie += "; Secure";
  return cookie;
}

std::string ClearedSessionCookie(bool secure) { return SessionCookie("", 0, secure); }

}  // namespace paybell::rest

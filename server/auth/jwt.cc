#include "server/auth/jwt.h"

#include <jwt.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "server/common/encoding.h"
#include "server/common/error.h"

namespace paybell::auth {
namespace {

using common::Error;
using common::ErrorCode;

constexpr size_t kMaxTokenBytes = 8192;
constexpr size_t kMaxIdClaimBytes = 128;

struct JwtDeleter {
  void operator()(jwt_t* jwt) const { jwt_free(jwt); }
};
using JwtPtr = std::unique_ptr<jwt_t, JwtDeleter>;

[[noreturn]] void Reject(const std::string& why) {
  throw Error(ErrorCode::kUnauthenticated, "invalid token: " + why);
}

// A NumericDate claim as whole seconds; refuses values no real token carries (and whose cast
// would be undefined).
int64_t TimeClaim(const nlohmann::json& value, const char* name) {
  if (!value.is_number()) Reject(std::string("claim '") + name + "' is not a number");
  const double seconds = value.get<double>();
  if (!(seconds >= 0 && seconds < 1e13))
    Reject(std::string("claim '") + name + "' is out of range");
  return static_cast<int64_t>(seconds);
}

std::string StringClaim(const nlohmann::json& claims, const char* name) {
  auto it = claims.find(name);
  if (it == claims.end() || !it->is_string() || it->get<std::string>().empty()) {
    Reject(std::string("claim '") + name + "' is missing or not a string");
  }
  return it->get<std::string>();
}

// sid, jti, purpose: absent is "", present must be a short printable ASCII string (they end up
// in database keys and log lines).
std::string OptionalIdClaim(const nlohmann::json& claims, const char* name) {
  auto it = claims.find(name);
  if (it == claims.end()) return "";
  const std::string* value = it->is_string() ? &it->get_ref<const std::string&>() : nullptr;
  if (value == nullptr || value->empty() || value->size() > kMaxIdClaimBytes) {
    Reject(std::string("claim '") + name + "' must be a string of 1 to 128 characters");
  }
  for (const char c : *value) {
    if (c < 0x20 || c > 0x7e) Reject(std::string("claim '") + name + "' is not printable ASCII");
  }
  return *value;
}

void AddGrant(jwt_t* jwt, const char* name, const std::string& value) {
  if (jwt_add_grant(jwt, name, value.c_str()) != 0) {
    throw Error(ErrorCode::kInternal, "cannot build token");
  }
}

std::string Sign(const std::string& secret, const Principal& principal, int64_t issued_at,
                 const std::string& csrf_token) {
  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0) throw Error(ErrorCode::kInternal, "jwt_new failed");
  JwtPtr jwt(raw);
  const std::string role(RoleName(principal.role));
  if (jwt_add_grant(jwt.get(), "sub", principal.subject.c_str()) != 0 ||
      jwt_add_grant(jwt.get(), "tenant_id", principal.tenant_id.c_str()) != 0 ||
      jwt_add_grant(jwt.get(), "role", role.c_str()) != 0 ||
      jwt_add_grant_int(jwt.get(), "iat", issued_at) != 0 ||
      jwt_add_grant_int(jwt.get(), "exp", principal.expires_at) != 0 ||
      jwt_set_alg(jwt.get(), JWT_ALG_HS256, reinterpret_cast<const unsigned char*>(secret.data()),
                  static_cast<int>(secret.size())) != 0) {
    throw Error(ErrorCode::kInternal, "cannot build token");
  }
  if (!principal.actor.empty()) {
    const std::string act = nlohmann::json{{"act", {{"sub", principal.actor}}}}.dump();
    if (jwt_add_grants_json(jwt.get(), act.c_str()) != 0) {
      throw Error(ErrorCode::kInternal, "cannot build token");
    }
  }
  if (!principal.session_id.empty()) AddGrant(jwt.get(), "sid", principal.session_id);
  if (!principal.token_id.empty()) AddGrant(jwt.get(), "jti", principal.token_id);
  if (!principal.purpose.empty()) AddGrant(jwt.get(), "purpose", principal.purpose);
  if (!csrf_token.empty()) AddGrant(jwt.get(), "csrf", csrf_token);
  std::unique_ptr<char, decltype(&free)> encoded(jwt_encode_str(jwt.get()), &free);
  if (!encoded) throw Error(ErrorCode::kInternal, "cannot encode token");
  return encoded.get();
}

}  // namespace

std::optional<Role> ParseRole(std::string_view name) {
  if (name == "owner") return Role::kOwner;
  if (name == "admin") return Role::kAdmin;
  if (name == "member") return Role::kMember;
  if (name == "service") return Role::kService;
  if (name == "operator") return Role::kOperator;
  return std::nullopt;
}

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kOwner:
      return "owner";
    case Role::kAdmin:
      return "admin";
    case Role::kMember:
      return "member";
    case Role::kService:
      return "service";
    case Role::kOperator:
      return "operator";
  }
  return "unknown";
}

Principal JwtVerifier::Verify(std::string_view token) const {
  if (token.empty()) Reject("empty");
  if (token.size() > kMaxTokenBytes) Reject("too long");
  // libjwt reads "alg" case-insensitively and ignores "crit": check the header first, so only
  // exactly "HS256" passes and a token demanding extensions this verifier lacks is refused.
  const size_t header_end = token.find('.');
  if (header_end == std::string_view::npos) Reject("malformed");
  const auto header_json = common::Base64UrlDecode(token.substr(0, header_end));
  const auto header =
      header_json ? nlohmann::json::parse(*header_json, nullptr, false) : nlohmann::json();
  if (!header.is_object()) Reject("malformed header");
  const auto alg = header.find("alg");
  if (alg == header.end() || !alg->is_string() || alg->get<std::string>() != "HS256") {
    Reject("algorithm must be HS256");
  }
  if (header.contains("crit")) Reject("critical header extensions are not supported");

  const std::string token_str(token);
  jwt_t* raw = nullptr;
  // With a key given, libjwt checks the signature and refuses alg "none"; it would accept
  // HS384/HS512 with the same key, so the algorithm is checked below.
  if (jwt_decode(&raw, token_str.c_str(), reinterpret_cast<const unsigned char*>(secret_.data()),
                 static_cast<int>(secret_.size())) != 0 ||
      raw == nullptr) {
    Reject("bad signature or malformed");
  }
  JwtPtr jwt(raw);
  if (jwt_get_alg(jwt.get()) != JWT_ALG_HS256) Reject("algorithm must be HS256");

  std::unique_ptr<char, decltype(&free)> grants(jwt_get_grants_json(jwt.get(), nullptr), &free);
  if (!grants) Reject("no claims");
  const auto claims = nlohmann::json::parse(grants.get(), nullptr, /*allow_exceptions=*/false);
  if (!claims.is_object()) Reject("claims are not a JSON object");

  const int64_t now = clock_.NowUnix();
  auto exp = claims.find("exp");
  if (exp == claims.end()) Reject("claim 'exp' is missing");
  const int64_t expires_at = TimeClaim(*exp, "exp");
  if (now >= expires_at) throw ExpiredToken();
  if (auto nbf = claims.find("nbf"); nbf != claims.end()) {
    if (now < TimeClaim(*nbf, "nbf")) Reject("not valid yet");
  }

  Principal p;
  p.subject = StringClaim(claims, "sub");
  p.tenant_id = StringClaim(claims, "tenant_id");
  const std::string role = StringClaim(claims, "role");
  auto parsed = ParseRole(role);
  if (!parsed) Reject("unknown role '" + role + "'");
  p.role = *parsed;
  p.expires_at = expires_at;
  if (auto iat = claims.find("iat"); iat != claims.end()) p.issued_at = TimeClaim(*iat, "iat");
  p.session_id = OptionalIdClaim(claims, "sid");
  p.token_id = OptionalIdClaim(claims, "jti");
  p.purpose = OptionalIdClaim(claims, "purpose");
  if (auto act = claims.find("act"); act != claims.end()) {
    const auto sub = act->is_object() ? act->find("sub") : act->end();
    if (!act->is_object() || sub == act->end() || !sub->is_string() ||
        sub->get<std::string>().empty() || sub->get<std::string>().size() > 254) {
      Reject("claim 'act' must be an object with a non-empty 'sub'");
    }
    p.actor = sub->get<std::string>();
  }
  const bool cross_tenant_role = p.role == Role::kService || p.role == Role::kOperator;
  if (p.all_tenants() && !cross_tenant_role) {
    Reject("only service and operator tokens may carry tenant_id '*'");
  }
  return p;
}

std::string SignToken(const std::string& secret, const Principal& principal, int64_t issued_at) {
  return Sign(secret, principal, issued_at, "");
}

std::string SignSessionToken(const std::string& secret, const Principal& principal,
                             int64_t issued_at, const std::string& csrf_token) {
  if (principal.session_id.empty() || csrf_token.empty()) {
    throw Error(ErrorCode::kInternal, "a session token needs a session id and a CSRF token");
  }
  return Sign(secret, principal, issued_at, csrf_token);
}

}  // namespace paybell::auth

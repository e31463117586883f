// The nlohmann::json DOM verification JwtVerifier::Verify used before its scanner (git 85a6a36,
// server/auth/jwt.cc), kept for the differential tests; the HMAC is OpenSSL's one-shot HMAC().
#include "tests/support/jwt_reference.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>

#include "server/common/encoding.h"
#include "server/common/error.h"

namespace paybell::testing {
namespace {

using common::Error;
using common::ErrorCode;

constexpr size_t kMaxTokenBytes = 8192;
constexpr size_t kMaxIdClaimBytes = 128;
// Header and claims nest one level at most (act.sub, aud lists); anything much deeper is not a
// token this server issues or accepts.
constexpr int kMaxJsonDepth = 8;
constexpr size_t kSha256Bytes = 32;
constexpr size_t kSignatureChars = 43;  // 32 bytes as unpadded base64url

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
  // NUL is refused as the C libraries these values reach (and libjwt's jansson before) would.
  if (it == claims.end() || !it->is_string() || it->get_ref<const std::string&>().empty() ||
      it->get_ref<const std::string&>().find('\0') != std::string::npos) {
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

// Members of every object in `value`, nested ones included.
size_t CountMembers(const nlohmann::json& value) {
  size_t count = 0;
  if (value.is_object()) {
    count += value.size();
    for (const auto& item : value.items()) count += CountMembers(item.value());
  } else if (value.is_array()) {
    for (const auto& item : value) count += CountMembers(item);
  }
  return count;
}

// Unpadded base64url to bytes through a table (every token pays this twice); false for a
// character outside the alphabet or a length no encoding has.
bool DecodeBase64Url(std::string_view text, std::string& out) {
  static const auto kValues = [] {
    std::array<int8_t, 256> values{};
    values.fill(-1);
    constexpr std::string_view kAlphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (size_t i = 0; i < kAlphabet.size(); ++i) {
      values[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int8_t>(i);
    }
    return values;
  }();
  if (text.size() % 4 == 1) return false;
  out.clear();
  out.reserve(text.size() * 3 / 4);
  uint32_t value = 0;
  int bits = 0;
  for (const char c : text) {
    const int8_t sextet = kValues[static_cast<unsigned char>(c)];
    if (sextet < 0) return false;
    value = (value << 6) | static_cast<uint32_t>(sextet);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((value >> bits) & 0xff));
    }
  }
  return true;
}

// One segment of the compact form as a JSON object; discarded (not an object) when it is not
// base64url, not JSON, nested too deep, or names one member twice in an object.
nlohmann::json ParseSegment(std::string_view segment) {
  std::string text;
  if (!DecodeBase64Url(segment, text)) return nlohmann::json(nlohmann::json::value_t::discarded);
  size_t keys_seen = 0;
  bool too_deep = false;
  nlohmann::json parsed = nlohmann::json::parse(
      text,
      [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json&) {
        if (event == nlohmann::json::parse_event_t::key) ++keys_seen;
        if (depth > kMaxJsonDepth) too_deep = true;
        return true;
      },
      /*allow_exceptions=*/false);
  // A repeated name collapses into one member: fewer members than names read means a repeat.
  if (!parsed.is_object() || too_deep || CountMembers(parsed) != keys_seen) {
    return nlohmann::json(nlohmann::json::value_t::discarded);
  }
  return parsed;
}

bool EqualsIgnoringAsciiCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

}  // namespace

auth::Principal VerifyJwtReference(std::string_view token, const std::string& secret,
                                   const common::Clock& clock) {
  if (token.empty()) Reject("empty");
  if (token.size() > kMaxTokenBytes) Reject("too long");
  const size_t header_end = token.find('.');
  const size_t claims_end =
      header_end == std::string_view::npos ? header_end : token.find('.', header_end + 1);
  if (claims_end == std::string_view::npos ||
      token.find('.', claims_end + 1) != std::string_view::npos) {
    Reject("malformed");
  }

  // Only exactly "HS256" passes (libjwt read "alg" case-insensitively and took HS384/HS512
  // with the same key), and a token demanding extensions this verifier lacks is refused.
  const nlohmann::json header = ParseSegment(token.substr(0, header_end));
  if (!header.is_object()) Reject("malformed header");
  const auto alg = header.find("alg");
  if (alg == header.end() || !alg->is_string() || alg->get_ref<const std::string&>() != "HS256") {
    Reject("algorithm must be HS256");
  }
  if (header.contains("crit")) Reject("critical header extensions are not supported");
  if (const auto typ = header.find("typ");
      typ != header.end() &&
      (!typ->is_string() || !EqualsIgnoringAsciiCase(typ->get_ref<const std::string&>(), "JWT"))) {
    Reject("type must be JWT");
  }

  // The signature before anything else is read from the claims: the keyed state is copied, so
  // the key's pads are not derived again.
  unsigned char digest[kSha256Bytes];
  unsigned int digest_size = 0;
  if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(token.data()), claims_end, digest,
           &digest_size) == nullptr ||
      digest_size != kSha256Bytes) {
    throw Error(ErrorCode::kInternal, "HMAC-SHA256 failed");
  }
  // Compared in its canonical encoding, so a signature has exactly one accepted spelling.
  const std::string expected = common::Base64UrlEncode(
      std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
  const std::string_view signature = token.substr(claims_end + 1);
  if (signature.size() != kSignatureChars ||
      CRYPTO_memcmp(signature.data(), expected.data(), kSignatureChars) != 0) {
    Reject("bad signature or malformed");
  }

  const nlohmann::json claims =
      ParseSegment(token.substr(header_end + 1, claims_end - header_end - 1));
  if (!claims.is_object()) Reject("claims are not a JSON object");

  const int64_t now = clock.NowUnix();
  auto exp = claims.find("exp");
  if (exp == claims.end()) Reject("claim 'exp' is missing");
  const int64_t expires_at = TimeClaim(*exp, "exp");
  if (now >= expires_at) throw auth::ExpiredToken();
  if (auto nbf = claims.find("nbf"); nbf != claims.end()) {
    if (now < TimeClaim(*nbf, "nbf")) Reject("not valid yet");
  }

  auth::Principal p;
  p.subject = StringClaim(claims, "sub");
  p.tenant_id = StringClaim(claims, "tenant_id");
  const std::string role = StringClaim(claims, "role");
  auto parsed = auth::ParseRole(role);
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
  const bool cross_tenant_role = p.role == auth::Role::kService || p.role == auth::Role::kOperator;
  if (p.all_tenants() && !cross_tenant_role) {
    Reject("only service and operator tokens may carry tenant_id '*'");
  }
  return p;
}

}  // namespace paybell::testing

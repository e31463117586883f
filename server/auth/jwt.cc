#include "server/auth/jwt.h"

#include <jwt.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <array>
#include <cstdint>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>

#include "server/auth/jwt_json.h"
#include "server/common/error.h"

namespace paybell::auth {
namespace {

using common::Error;
using common::ErrorCode;

constexpr size_t kMaxTokenBytes = 8192;
constexpr size_t kMaxIdClaimBytes = 128;
constexpr size_t kSha256Bytes = 32;
constexpr size_t kSignatureChars = 43;  // 32 bytes as unpadded base64url

struct JwtDeleter {
  void operator()(jwt_t* jwt) const { jwt_free(jwt); }
};
using JwtPtr = std::unique_ptr<jwt_t, JwtDeleter>;

[[noreturn]] void Reject(const std::string& why) {
  throw Error(ErrorCode::kUnauthenticated, "invalid token: " + why);
}

// The members read from the header and the claims, in the order of these tables.
constexpr std::string_view kHeaderNames[] = {"alg", "typ", "crit"};
enum HeaderMember : size_t { kAlg, kTyp, kCrit, kHeaderMembers };
constexpr std::string_view kClaimNames[] = {"exp",  "nbf", "iat", "sub",     "tenant_id",
                                            "role", "sid", "jti", "purpose", "act"};
enum ClaimMember : size_t {
  kExp,
  kNbf,
  kIat,
  kSub,
  kTenantId,
  kRole,
  kSid,
  kJti,
  kPurpose,
  kAct,
  kClaimMembers
};
static_assert(std::size(kHeaderNames) == kHeaderMembers && std::size(kClaimNames) == kClaimMembers);

// The header SignToken (libjwt) writes, {"alg":"HS256","typ":"JWT"}, as it arrives: it passes
// every header check, so it is not decoded and scanned again on every call.
constexpr std::string_view kOwnHeader = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

// A decoded segment is shorter than this (the whole token is at most kMaxTokenBytes).
constexpr size_t kMaxSegmentBytes = kMaxTokenBytes / 4 * 3;
using SegmentBuffer = std::array<char, kMaxSegmentBytes>;

// Unpadded base64url to bytes through a table (every token pays this twice), into `buffer`;
// false for a character outside the alphabet or a length no encoding has.
bool DecodeBase64Url(std::string_view text, SegmentBuffer& buffer, std::string_view& decoded) {
  static constexpr auto kValues = [] {
    std::array<int8_t, 256> values{};
    for (auto& value : values) value = -1;
    constexpr std::string_view kAlphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (size_t i = 0; i < kAlphabet.size(); ++i) {
      values[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int8_t>(i);
    }
    return values;
  }();
  if (text.size() % 4 == 1 || text.size() / 4 * 3 + 2 > buffer.size()) return false;
  size_t size = 0;
  uint32_t value = 0;
  int bits = 0;
  for (const char c : text) {
    const int8_t sextet = kValues[static_cast<unsigned char>(c)];
    if (sextet < 0) return false;
    value = (value << 6) | static_cast<uint32_t>(sextet);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      buffer[size++] = static_cast<char>((value >> bits) & 0xff);
    }
  }
  decoded = std::string_view(buffer.data(), size);
  return true;
}

// A segment decoded into `buffer` and scanned for `names` (values[i] is names[i]); false when
// it is not base64url, not a JSON object, nested too deep, or names one member twice in an
// object (jwt_json.h).
bool ReadSegment(std::string_view encoded, const std::string_view* names, size_t name_count,
                 SegmentBuffer& buffer, std::string_view& text, JwtJsonValue* values) {
  return DecodeBase64Url(encoded, buffer, text) && ScanJwtObject(text, names, name_count, values);
}

// A string member unescaped: the text itself when it has no escapes (nearly always), else
// unescaped into `scratch`.
std::string_view StringOf(std::string_view text, const JwtJsonValue& value, std::string& scratch) {
  if (!value.escaped) return value.In(text);
  JwtJsonString(text, value, scratch);
  return scratch;
}

// A NumericDate claim as whole seconds; refuses values no real token carries (and whose cast
// would be undefined).
int64_t TimeClaim(std::string_view claims, const JwtJsonValue& value, const char* name) {
  if (value.type != JwtJsonType::kNumber) {
    Reject(std::string("claim '") + name + "' is not a number");
  }
  const double seconds = JwtJsonNumber(claims, value);
  if (!(seconds >= 0 && seconds < 1e13))
    Reject(std::string("claim '") + name + "' is out of range");
  return static_cast<int64_t>(seconds);
}

void StringClaim(std::string_view claims, const JwtJsonValue& value, const char* name,
                 std::string& out) {
  // NUL is refused as the C libraries these values reach (and libjwt's jansson before) would;
  // only an escape can write one.
  if (value.type != JwtJsonType::kString || value.size == 0) {
    Reject(std::string("claim '") + name + "' is missing or not a string");
  }
  JwtJsonString(claims, value, out);
  if (value.escaped && out.find('\0') != std::string::npos) {
    Reject(std::string("claim '") + name + "' is missing or not a string");
  }
}

// sid, jti, purpose: absent is "", present must be a short printable ASCII string (they end up
// in database keys and log lines).
void OptionalIdClaim(std::string_view claims, const JwtJsonValue& value, const char* name,
                     std::string& out) {
  if (value.type == JwtJsonType::kAbsent) return;
  if (value.type == JwtJsonType::kString) JwtJsonString(claims, value, out);
  if (value.type != JwtJsonType::kString || out.empty() || out.size() > kMaxIdClaimBytes) {
    Reject(std::string("claim '") + name + "' must be a string of 1 to 128 characters");
  }
  for (const char c : out) {
    if (c < 0x20 || c > 0x7e) Reject(std::string("claim '") + name + "' is not printable ASCII");
  }
}

// Unpadded base64url of a SHA-256 digest, as common::Base64UrlEncode writes it.
std::array<char, kSignatureChars> EncodeSignature(const unsigned char (&digest)[kSha256Bytes]) {
  constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::array<char, kSignatureChars> out{};
  size_t o = 0;
  size_t i = 0;
  for (; i + 3 <= kSha256Bytes; i += 3) {
    const uint32_t v = (uint32_t{digest[i]} << 16) | (uint32_t{digest[i + 1]} << 8) | digest[i + 2];
    out[o++] = kAlphabet[(v >> 18) & 63];
    out[o++] = kAlphabet[(v >> 12) & 63];
    out[o++] = kAlphabet[(v >> 6) & 63];
    out[o++] = kAlphabet[v & 63];
  }
  // 32 = 10 * 3 + 2: the last two bytes make three characters.
  const uint32_t v = (uint32_t{digest[i]} << 16) | (uint32_t{digest[i + 1]} << 8);
  out[o++] = kAlphabet[(v >> 18) & 63];
  out[o++] = kAlphabet[(v >> 12) & 63];
  out[o++] = kAlphabet[(v >> 6) & 63];
  return out;
}

bool EqualsIgnoringAsciiCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
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

void JwtVerifier::MacContextFree::operator()(EVP_MAC_CTX* context) const {
  EVP_MAC_CTX_free(context);
}

JwtVerifier::JwtVerifier(const std::string& secret, const common::Clock& clock) : clock_(clock) {
  std::unique_ptr<EVP_MAC, decltype(&EVP_MAC_free)> mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr),
                                                        &EVP_MAC_free);
  if (mac) keyed_mac_.reset(EVP_MAC_CTX_new(mac.get()));
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                               OSSL_PARAM_END};
  if (!keyed_mac_ ||
      EVP_MAC_init(keyed_mac_.get(), reinterpret_cast<const unsigned char*>(secret.data()),
                   secret.size(), params) != 1) {
    throw Error(ErrorCode::kInternal, "cannot key HMAC-SHA256");
  }
}

JwtVerifier::~JwtVerifier() = default;

Principal JwtVerifier::Verify(std::string_view token) const {
  if (token.empty()) Reject("empty");
  if (token.size() > kMaxTokenBytes) Reject("too long");
  const size_t header_end = token.find('.');
  const size_t claims_end =
      header_end == std::string_view::npos ? header_end : token.find('.', header_end + 1);
  if (claims_end == std::string_view::npos ||
      token.find('.', claims_end + 1) != std::string_view::npos) {
    Reject("malformed");
  }
  SegmentBuffer buffer;  // the header's JSON, then the claims'
  std::string scratch;   // an escaped string's unescaped value (rare)

  // Only exactly "HS256" passes (libjwt read "alg" case-insensitively and took HS384/HS512
  // with the same key), and a token demanding extensions this verifier lacks is refused.
  if (const std::string_view encoded = token.substr(0, header_end); encoded != kOwnHeader) {
    std::string_view header;
    JwtJsonValue members[kHeaderMembers];
    if (!ReadSegment(encoded, kHeaderNames, kHeaderMembers, buffer, header, members)) {
      Reject("malformed header");
    }
    if (members[kAlg].type != JwtJsonType::kString ||
        StringOf(header, members[kAlg], scratch) != "HS256") {
      Reject("algorithm must be HS256");
    }
    if (members[kCrit].type != JwtJsonType::kAbsent) {
      Reject("critical header extensions are not supported");
    }
    if (const JwtJsonValue& typ = members[kTyp];
        typ.type != JwtJsonType::kAbsent &&
        (typ.type != JwtJsonType::kString ||
         !EqualsIgnoringAsciiCase(StringOf(header, typ, scratch), "JWT"))) {
      Reject("type must be JWT");
    }
  }

  // The signature before anything else is read from the claims: the keyed state is copied, so
  // the key's pads are not derived again.
  std::unique_ptr<EVP_MAC_CTX, MacContextFree> mac(EVP_MAC_CTX_dup(keyed_mac_.get()));
  unsigned char digest[kSha256Bytes];
  size_t digest_size = 0;
  if (!mac ||
      EVP_MAC_update(mac.get(), reinterpret_cast<const unsigned char*>(token.data()), claims_end) !=
          1 ||
      EVP_MAC_final(mac.get(), digest, &digest_size, sizeof digest) != 1 ||
      digest_size != kSha256Bytes) {
    throw Error(ErrorCode::kInternal, "HMAC-SHA256 failed");
  }
  // Compared in its canonical encoding, so a signature has exactly one accepted spelling.
  const std::array<char, kSignatureChars> expected = EncodeSignature(digest);
  const std::string_view signature = token.substr(claims_end + 1);
  if (signature.size() != kSignatureChars ||
      CRYPTO_memcmp(signature.data(), expected.data(), kSignatureChars) != 0) {
    Reject("bad signature or malformed");
  }

  std::string_view claims;
  JwtJsonValue members[kClaimMembers];
  if (!ReadSegment(token.substr(header_end + 1, claims_end - header_end - 1), kClaimNames,
                   kClaimMembers, buffer, claims, members)) {
    Reject("claims are not a JSON object");
  }

  const int64_t now = clock_.NowUnix();
  if (members[kExp].type == JwtJsonType::kAbsent) Reject("claim 'exp' is missing");
  const int64_t expires_at = TimeClaim(claims, members[kExp], "exp");
  if (now >= expires_at) throw ExpiredToken();
  if (members[kNbf].type != JwtJsonType::kAbsent) {
    if (now < TimeClaim(claims, members[kNbf], "nbf")) Reject("not valid yet");
  }

  Principal p;
  StringClaim(claims, members[kSub], "sub", p.subject);
  StringClaim(claims, members[kTenantId], "tenant_id", p.tenant_id);
  StringClaim(claims, members[kRole], "role", scratch);
  auto parsed = ParseRole(scratch);
  if (!parsed) Reject("unknown role '" + scratch + "'");
  p.role = *parsed;
  p.expires_at = expires_at;
  if (members[kIat].type != JwtJsonType::kAbsent) {
    p.issued_at = TimeClaim(claims, members[kIat], "iat");
  }
  OptionalIdClaim(claims, members[kSid], "sid", p.session_id);
  OptionalIdClaim(claims, members[kJti], "jti", p.token_id);
  OptionalIdClaim(claims, members[kPurpose], "purpose", p.purpose);
  if (const JwtJsonValue& act = members[kAct]; act.type != JwtJsonType::kAbsent) {
    // act is an object the scan has validated already; this reads its "sub".
    constexpr std::string_view kActNames[] = {"sub"};
    const std::string_view act_text = act.In(claims);
    JwtJsonValue sub;
    if (act.type != JwtJsonType::kObject || !ScanJwtObject(act_text, kActNames, 1, &sub) ||
        sub.type != JwtJsonType::kString || sub.size == 0 ||
        (JwtJsonString(act_text, sub, p.actor), p.actor.size() > 254)) {
      Reject("claim 'act' must be an object with a non-empty 'sub'");
    }
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

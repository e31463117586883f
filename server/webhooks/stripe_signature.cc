#include "server/webhooks/stripe_signature.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>

#include <cctype>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>

#include "server/common/encoding.h"

namespace paybell::webhooks {
namespace {

constexpr size_t kMaxHeaderBytes = 4096;

bool ParseTimestamp(std::string_view text, int64_t* out) {
  if (text.empty() || text.size() > 12) return false;
  int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  *out = value;
  return true;
}

bool IsLowerHex(std::string_view text) {
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

struct MacContextFree {
  void operator()(EVP_MAC_CTX* context) const { EVP_MAC_CTX_free(context); }
};
using MacContext = std::unique_ptr<EVP_MAC_CTX, MacContextFree>;

// HMAC-SHA256 keyed with `secret`, ready for a message. OpenSSL 3's one-shot HMAC() looks the
// algorithms up and derives the key's pads on every call, several times the cost of hashing a
// webhook; here each thread keys a context once per secret and resets it per message.
EVP_MAC_CTX* KeyedHmacSha256(std::string_view secret) {
  static EVP_MAC* const hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (hmac == nullptr) throw std::runtime_error("OpenSSL has no HMAC");
  thread_local std::map<std::string, MacContext, std::less<>> keyed;
  auto it = keyed.find(secret);
  if (it != keyed.end()) {
    // A NULL key resets the context to the state right after keying (OpenSSL 3).
    if (EVP_MAC_init(it->second.get(), nullptr, 0, nullptr) != 1) {
      throw std::runtime_error("HMAC reset failed");
    }
    return it->second.get();
  }
  if (keyed.size() >= 8) keyed.clear();  // secrets rotate rarely: keep the cache bounded
  MacContext context(EVP_MAC_CTX_new(hmac));
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                               OSSL_PARAM_construct_end()};
  if (!context || EVP_MAC_init(context.get(), reinterpret_cast<const unsigned char*>(secret.data()),
                               secret.size(), params) != 1) {
    throw std::runtime_error("HMAC-SHA256 setup failed");
  }
  return keyed.emplace(std::string(secret), std::move(context)).first->second.get();
}

}  // namespace

std::string ComputeStripeSignature(std::string_view secret, int64_t timestamp,
                                   std::string_view payload) {
  // Stripe signs "<timestamp>.<payload>": fed in three pieces, without copying the payload.
  EVP_MAC_CTX* context = KeyedHmacSha256(secret);
  const std::string prefix = std::to_string(timestamp) + ".";
  unsigned char mac[EVP_MAX_MD_SIZE];
  size_t mac_len = 0;
  if (EVP_MAC_update(context, reinterpret_cast<const unsigned char*>(prefix.data()),
                     prefix.size()) != 1 ||
      EVP_MAC_update(context, reinterpret_cast<const unsigned char*>(payload.data()),
                     payload.size()) != 1 ||
      EVP_MAC_final(context, mac, &mac_len, sizeof(mac)) != 1) {
    throw std::runtime_error("HMAC-SHA256 failed");
  }
  return common::HexEncode(mac, mac_len);
}

SignatureCheck VerifyStripeSignature(std::string_view header, std::string_view payload,
                                     const std::vector<std::string>& secrets, int64_t tolerance_s,
                                     int64_t now) {
  if (secrets.empty()) return {false, "no webhook secret is configured"};
  if (header.empty()) return {false, "missing Stripe-Signature header"};
  if (header.size() > kMaxHeaderBytes) return {false, "Stripe-Signature header too long"};

  bool have_timestamp = false;
  int64_t timestamp = 0;
  std::vector<std::string_view> v1;
  while (!header.empty()) {
    const size_t comma = header.find(',');
    std::string_view item = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view key = item.substr(0, eq);
    const std::string_view value = item.substr(eq + 1);
    if (key == "t") {
      if (!ParseTimestamp(value, &timestamp)) {
        return {false, "Stripe-Signature timestamp is not a number"};
      }
      have_timestamp = true;
    } else if (key == "v1") {
      v1.push_back(value);
    }
  }
  if (!have_timestamp) return {false, "Stripe-Signature header has no timestamp"};
  if (v1.empty()) return {false, "Stripe-Signature header has no v1 signature"};
  if (timestamp < now - tolerance_s)
    return {false, "timestamp outside the tolerance zone (too old)"};
  if (timestamp > now + tolerance_s) {
    return {false, "timestamp outside the tolerance zone (in the future)"};
  }

  for (const std::string& secret : secrets) {
    const std::string expected = ComputeStripeSignature(secret, timestamp, payload);
    for (std::string_view candidate : v1) {
      if (candidate.size() == expected.size() && IsLowerHex(candidate) &&
          CRYPTO_memcmp(candidate.data(), expected.data(), expected.size()) == 0) {
        return {true, ""};
      }
    }
  }
  return {false, "no v1 signature matches the payload for any configured secret"};
}

}  // namespace paybell::webhooks

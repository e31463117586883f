#include "server/webhooks/stripe_signature.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cctype>

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

}  // namespace

std::string ComputeStripeSignature(std::string_view secret, int64_t timestamp,
                                   std::string_view payload) {
  const std::string signed_payload = std::to_string(timestamp) + "." + std::string(payload);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(signed_payload.data()), signed_payload.size(), mac,
       &mac_len);
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

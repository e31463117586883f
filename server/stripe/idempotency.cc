#include "server/stripe/idempotency.h"

#include <openssl/sha.h>

#include "server/common/encoding.h"

namespace paybell::stripe {

std::string DeriveIdempotencyKey(std::string_view purpose, const std::vector<std::string>& parts,
                                 int64_t now_unix, int64_t window_s) {
  std::string material(purpose);
  for (const std::string& part : parts) {
    // Length-prefixed, so ("ab","c") and ("a","bc") differ.
    material += "|" + std::to_string(part.size()) + ":" + part;
  }
  material += "|w" + std::to_string(window_s > 0 ? now_unix / window_s : 0);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(material.data()), material.size(), digest);
  // 128 bits is plenty for a key.
  return "paybell-" + std::string(purpose) + "-" + common::HexEncode(digest, 16);
}

}  // namespace paybell::stripe

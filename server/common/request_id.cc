#include "common/request_id.h"

#include <sys/random.h>

#include <algorithm>
#include <cctype>

namespace paybell::common {

std::string SanitizeRequestId(std::string_view candidate) {
  const bool ok =
      !candidate.empty() && candidate.size() <= 128 &&
      std::all_of(candidate.begin(), candidate.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
      });
  return ok ? std::string(candidate) : "";
}

std::string NewRequestId() {
  unsigned char bytes[16] = {};
  size_t got = 0;
  while (got < sizeof bytes) {
    const ssize_t n = getrandom(bytes + got, sizeof bytes - got, 0);
    if (n > 0) got += static_cast<size_t>(n);
  }
  static const char kHex[] = "0123456789abcdef";
  std::string id;
  for (unsigned char b : bytes) {
    id.push_back(kHex[b >> 4]);
    id.push_back(kHex[b & 0xf]);
  }
  return id;
}

std::string RequestIdOf(const grpc::ServerContext& context) {
  const auto& metadata = context.client_metadata();
  const auto it = metadata.find(kRequestIdMetadata);
  if (it == metadata.end()) return "";
  return SanitizeRequestId(std::string_view(it->second.data(), it->second.size()));
}

}  // namespace paybell::common

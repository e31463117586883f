#include "common/request_id.h"

#include <algorithm>
#include <cctype>

#include "common/encoding.h"

namespace paybell::common {

std::string SanitizeRequestId(std::string_view candidate) {
  const bool ok =
      !candidate.empty() && candidate.size() <= 128 &&
      std::all_of(candidate.begin(), candidate.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
      });
  return ok ? std::string(candidate) : "";
}

std::string NewRequestId() { return RandomHex(16); }

std::string RequestIdOf(const grpc::ServerContext& context) {
  const auto& metadata = context.client_metadata();
  const auto it = metadata.find(kRequestIdMetadata);
  if (it == metadata.end()) return "";
  return SanitizeRequestId(std::string_view(it->second.data(), it->second.size()));
}

}  // namespace paybell::common

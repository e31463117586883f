#include "server/common/request_id.h"

#include <algorithm>
#include <cctype>

#include "server/common/encoding.h"

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

}  // namespace paybell::common

#include "server/common/pagination.h"

#include <string_view>

#include "server/common/encoding.h"
#include "server/common/error.h"

namespace paybell::common {
namespace {

constexpr std::string_view kPrefix = "v1:";

}  // namespace

int PageSize(int requested) {
  if (requested < 0) throw Error(ErrorCode::kInvalidArgument, "page_size may not be negative");
  if (requested == 0) return kDefaultPageSize;
  return requested > kMaxPageSize ? kMaxPageSize : requested;
}

std::string EncodePageToken(const std::string& last_key) {
  return Base64UrlEncode(std::string(kPrefix) + last_key);
}

std::string DecodePageToken(const std::string& token) {
  if (token.empty()) return "";
  if (token.size() > 1024) throw Error(ErrorCode::kInvalidArgument, "bad page_token");
  const auto decoded = Base64UrlDecode(token);
  if (!decoded || decoded->compare(0, kPrefix.size(), kPrefix) != 0) {
    throw Error(ErrorCode::kInvalidArgument, "bad page_token");
  }
  return decoded->substr(kPrefix.size());
}

}  // namespace paybell::common

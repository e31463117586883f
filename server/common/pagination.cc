#include "common/pagination.h"

#include <string_view>

#include "common/error.h"

namespace paybell::common {
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::string_view kPrefix = "v1:";

std::string Base64UrlEncode(std::string_view in) {
  std::string out;
  unsigned value = 0;
  int bits = 0;
  for (unsigned char c : in) {
    value = (value << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(value >> bits) & 0x3f]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(value << (6 - bits)) & 0x3f]);
  return out;
}

std::string Base64UrlDecode(std::string_view in) {
  std::string out;
  unsigned value = 0;
  int bits = 0;
  for (char c : in) {
    const size_t index = kAlphabet.find(c);
    if (index == std::string_view::npos) throw Error(ErrorCode::kInvalidArgument, "bad page_token");
    value = (value << 6) | static_cast<unsigned>(index);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((value >> bits) & 0xff));
    }
  }
  return out;
}

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
  const std::string decoded = Base64UrlDecode(token);
  if (decoded.compare(0, kPrefix.size(), kPrefix) != 0) {
    throw Error(ErrorCode::kInvalidArgument, "bad page_token");
  }
  return decoded.substr(kPrefix.size());
}

}  // namespace paybell::common

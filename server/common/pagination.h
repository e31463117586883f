// Page sizes and opaque keyset page tokens shared by every List RPC.
#pragma once

#include <string>

namespace paybell::common {

inline constexpr int kDefaultPageSize = 50;
inline constexpr int kMaxPageSize = 500;

// 0 → the default; negative → INVALID_ARGUMENT; above the maximum → the maximum.
int PageSize(int requested);

// A token wraps the last key of the previous page (base64url, "v1:" prefixed), so callers
// treat it as opaque. Decoding "" gives ""; a malformed token is INVALID_ARGUMENT.
std::string EncodePageToken(const std::string& last_key);
std::string DecodePageToken(const std::string& token);

}  // namespace paybell::common

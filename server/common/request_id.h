// The request id that follows one request from the HTTP adapter through gRPC into logs and
// the audit log (metadata "x-request-id").
#pragma once

#include <string>
#include <string_view>

namespace paybell::common {

inline constexpr char kRequestIdMetadata[] = "x-request-id";

// The caller's id when it is well-formed (1–128 of [A-Za-z0-9._-]), else "".
std::string SanitizeRequestId(std::string_view candidate);
// A new random id (32 hex characters).
std::string NewRequestId();

}  // namespace paybell::common

// Domain errors: the one error type that crosses layers inside Paybell.
#pragma once

#include <stdexcept>
#include <string>

namespace paybell::common {

// What went wrong, in terms a caller can act on. Mapped to gRPC codes in one place
// (grpc_status.h) and to HTTP statuses in one place (the adapter).
enum class ErrorCode {
  kInvalidArgument,
  kUnauthenticated,
  kPermissionDenied,
  kNotFound,
  kFailedPrecondition,
  kAlreadyExists,
  kResourceExhausted,
  kUnavailable,  // transient: the caller may retry
  kUnimplemented,
  kInternal,  // a bug
};

// Thrown by domain logic and repositories; the message is safe to show to the caller
// (it never contains secrets).
class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const { return code_; }

 private:
  ErrorCode code_;
};

}  // namespace paybell::common

// The one mapping from domain errors to gRPC statuses, and the handler guard that applies it.
#pragma once

#include <grpcpp/support/status.h>

#include <string_view>

#include "common/error.h"

namespace paybell::common {

grpc::StatusCode ToGrpcCode(ErrorCode code);

// Runs a handler body; domain errors become their gRPC status, anything else becomes INTERNAL
// (logged with the method name; the caller sees no internals).
template <typename Body>
grpc::Status GuardHandler(std::string_view method, Body&& body);

grpc::Status StatusFromCurrentException(std::string_view method);

template <typename Body>
grpc::Status GuardHandler(std::string_view method, Body&& body) {
  try {
    body();
    return grpc::Status::OK;
  } catch (...) {
    return StatusFromCurrentException(method);
  }
}

}  // namespace paybell::common

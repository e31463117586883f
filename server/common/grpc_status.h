// The gRPC boundary: the one mapping from domain errors to gRPC statuses, the handler guard
// that applies it, and the call metadata handlers read.
#pragma once

#include <grpcpp/server_context.h>
#include <grpcpp/support/status.h>

#include <string>
#include <string_view>

#include "server/common/error.h"

namespace paybell::common {

grpc::StatusCode ToGrpcCode(ErrorCode code);

// The code's name as gRPC spells it ("PERMISSION_DENIED"); "UNKNOWN" for a value outside it.
std::string_view GrpcCodeName(grpc::StatusCode code);

// The sanitised x-request-id of a call (request_id.h), or "" when it sent none.
std::string RequestIdOf(const grpc::ServerContext& context);

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

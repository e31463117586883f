// The one mapping from gRPC status codes to HTTP statuses (DESIGN.md "gRPC API").
#pragma once

#include <grpcpp/support/status_code_enum.h>

namespace paybell::rest {

int HttpStatusFromGrpc(grpc::StatusCode code);

}  // namespace paybell::rest

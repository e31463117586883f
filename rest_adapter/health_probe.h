// Asks a Paybell server's grpc.health.v1.Health whether it is SERVING (paybell-rest's /readyz).
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>

namespace paybell::rest {

// True when Health/Check for the overall service ("") answers SERVING within `timeout`.
// The messages are tiny and fixed, so they are written as bytes rather than pulling in
// health.proto, which Debian does not ship.
bool IsServing(const std::shared_ptr<grpc::Channel>& channel, std::chrono::milliseconds timeout);

}  // namespace paybell::rest

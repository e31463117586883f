// Sizes every edge of Paybell enforces alike, so a request refused on one path is refused on
// the others too.
#pragma once

#include <cstddef>

namespace paybell::common {

// A Stripe event as delivered (Stripe sends a few KiB): the HTTP route answers 413 above it,
// IngestStripeEvent over gRPC INVALID_ARGUMENT, and GetEvent never returns more than a
// default gRPC client accepts (4 MiB).
inline constexpr size_t kMaxStripeEventBytes = 1 << 20;

// Largest gRPC message the server accepts: the biggest request (an event) with room for its
// other fields. Larger messages are refused by gRPC itself (RESOURCE_EXHAUSTED).
inline constexpr int kMaxGrpcRequestBytes = 2 << 20;

}  // namespace paybell::common

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

// Most threads the gRPC server runs synchronous handlers on (grpc::ResourceQuota::SetMaxThreads);
// without a cap gRPC starts one per concurrent call (2,000 calls once made 1,257 threads). A
// handler that touches the database holds one of a few pooled connections (4 on SQLite, 8 on
// PostgreSQL) and the others wait for one, up to 5 s: 64 lets the embedded HTTP adapter's 32
// worker threads and as many direct gRPC callers wait in that line. When every thread is busy,
// gRPC answers further calls RESOURCE_EXHAUSTED at once (HTTP 429 from the adapter, which Stripe
// retries) instead of starting a thread per call. GetSubscription, the hot read, takes no thread
// of these (server_app.cc): it waits in its own queue, bounded below.
inline constexpr int kMaxGrpcServerThreads = 64;

// GetSubscription calls that may wait for a reader thread at once; the next is answered
// RESOURCE_EXHAUSTED at once. 8× the 128 calls in flight the service is sized for: a waiting
// call costs a queue entry (a few hundred bytes), and at the measured read rates (10,000+/s)
// a full queue drains in well under a second, inside any caller's deadline.
inline constexpr size_t kMaxQueuedSubscriptionReads = 1024;

}  // namespace paybell::common

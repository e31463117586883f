// Full-jitter exponential backoff, shared by every client that retries (Stripe, notifications).
#pragma once

#include <chrono>

namespace paybell::common {

// How long to wait before retry number `retry` (0 for the first retry): uniform in
// [0, min(cap, base * 2^retry)] for `unit` uniform in [0, 1) ("full jitter"). Replicas that
// failed together then retry apart, instead of hitting a recovering peer in lockstep.
std::chrono::milliseconds FullJitterBackoff(int retry, std::chrono::milliseconds base,
                                            std::chrono::milliseconds cap, double unit);

}  // namespace paybell::common

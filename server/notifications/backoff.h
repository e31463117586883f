// When the dispatcher tries a failed delivery again: exponential backoff with full jitter.
#pragma once

#include <chrono>
#include <random>

namespace paybell::notifications {

// The bound doubles from kRetryBase per failed attempt and stops at kRetryCap: after attempt
// 1 the wait is uniform in [1 s, 30 s], after 2 in [1 s, 60 s], … after 7 in [1 s, 32 min]. With
// kMaxDeliveryAttempts = 8 a row that keeps failing is dead after at most ~64 minutes, and the
// replicas that failed together (a peer outage) come back spread out rather than in lockstep.
inline constexpr std::chrono::seconds kRetryBase{30};
inline constexpr std::chrono::seconds kRetryCap{3600};

// The wait after failed attempt number `attempt` (1 for the first attempt), in whole seconds.
// Not used after a Slack 429: the dispatcher waits the Retry-After Slack asked for instead.
std::chrono::seconds RetryDelay(int attempt, std::mt19937_64& random);

}  // namespace paybell::notifications

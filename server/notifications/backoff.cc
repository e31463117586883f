#include "server/notifications/backoff.h"

#include <algorithm>

#include "server/common/backoff.h"

namespace paybell::notifications {

std::chrono::seconds RetryDelay(int attempt, std::mt19937_64& random) {
  const double unit = std::uniform_real_distribution<double>(0.0, 1.0)(random);
  const auto wait =
      common::FullJitterBackoff(std::max(attempt, 1) - 1, kRetryBase, kRetryCap, unit);
  // Whole seconds, and never none: a wait rounded down to 0 s would retry a failing peer at
  // once, and make the row due again within the attempt that just failed.
  return std::max(std::chrono::seconds(1), std::chrono::duration_cast<std::chrono::seconds>(wait));
}

}  // namespace paybell::notifications

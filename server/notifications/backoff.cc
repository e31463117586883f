#include "server/notifications/backoff.h"

#include <algorithm>

#include "server/common/backoff.h"

namespace paybell::notifications {

std::chrono::seconds RetryDelay(int attempt, std::mt19937_64& random) {
  const double unit = std::uniform_real_distribution<double>(0.0, 1.0)(random);
  const auto wait =
      common::FullJitterBackoff(std::max(attempt, 1) - 1, kRetryBase, kRetryCap, unit);
  return std::chrono::duration_cast<std::chrono::seconds>(wait);
}

}  // namespace paybell::notifications

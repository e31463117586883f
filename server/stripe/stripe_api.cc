#include "server/stripe/stripe_api.h"

#include <algorithm>

namespace paybell::stripe {

Deadline OperationDeadline(std::optional<std::chrono::system_clock::time_point> caller_deadline,
                           std::chrono::milliseconds cap, std::chrono::milliseconds margin) {
  const auto steady_now = std::chrono::steady_clock::now();
  const auto capped = steady_now + cap;
  if (!caller_deadline) return capped;
  const auto system_now = std::chrono::system_clock::now();
  // Compared before subtracting: system_clock's max minus now is fine, but a far-future or
  // far-past deadline must not overflow the arithmetic below.
  if (*caller_deadline >= system_now + cap + margin) return capped;
  if (*caller_deadline <= system_now) return steady_now - margin;
  // The caller's deadline is a wall-clock time; the remaining time is carried over to the
  // steady clock so that a clock step cannot stretch or shrink the operation.
  const auto remaining = *caller_deadline - system_now;
  return std::min(capped,
                  steady_now + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                   remaining - margin));
}

}  // namespace paybell::stripe

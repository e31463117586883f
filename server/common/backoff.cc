#include "server/common/backoff.h"

#include <algorithm>

namespace paybell::common {

std::chrono::milliseconds FullJitterBackoff(int retry, std::chrono::milliseconds base,
                                            std::chrono::milliseconds cap, double unit) {
  // Doubling stops once the bound reaches the cap, so a large `retry` cannot overflow.
  std::chrono::milliseconds bound = std::min(base, cap);
  for (int i = 0; i < retry && bound < cap && bound.count() > 0; ++i) {
    bound = std::min(bound * 2, cap);
  }
  unit = std::clamp(unit, 0.0, 1.0);  // an injected source that strays stays within the bound
  return std::chrono::milliseconds(
      static_cast<std::chrono::milliseconds::rep>(unit * static_cast<double>(bound.count())));
}

}  // namespace paybell::common

#include "tools/stripe-fake/log.h"

#include <iostream>
#include <mutex>

namespace paybell::stripe_fake {

void LogLine(const std::string& line) {
  // Lines from concurrent handlers must not interleave.
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  std::cerr << "stripe-fake: " << line << std::endl;
}

}  // namespace paybell::stripe_fake

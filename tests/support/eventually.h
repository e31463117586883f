// Polling with a deadline: how tests wait for what a background thread does.
#pragma once

#include <chrono>
#include <thread>

namespace paybell::testing {

// Polls `done` every 20 ms until it holds or `timeout` passes; returns whether it held.
template <typename Predicate>
bool Eventually(Predicate done, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

}  // namespace paybell::testing

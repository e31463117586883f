// A stop request that long-running work (catch-up paging, the background schedule) checks
// between steps and that cuts its waits short.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>

#include "server/common/error.h"

namespace paybell::common {

class StopSignal {
 public:
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopped_ = true;
    }
    changed_.notify_all();
  }
  bool stopped() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return stopped_;
  }
  // Waits `duration` unless stopped first; true when stopped.
  template <class Rep, class Period>
  bool WaitFor(std::chrono::duration<Rep, Period> duration) const {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, duration, [this] { return stopped_; });
  }

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  bool stopped_ = false;
};

// Throws common::Error(kUnavailable) "<what> stopped: shutting down" once `stop` (may be null)
// was signalled: the caller's run ends, and what it stored stays.
inline void ThrowIfStopped(const StopSignal* stop, const std::string& what) {
  if (stop != nullptr && stop->stopped()) {
    throw Error(ErrorCode::kUnavailable, what + " stopped: shutting down");
  }
}

}  // namespace paybell::common

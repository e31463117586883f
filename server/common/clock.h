// Time source, injected so rules that depend on "now" are testable without a real clock.
#pragma once

#include <chrono>
#include <cstdint>

namespace paybell::common {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::system_clock::time_point Now() const = 0;
  // Seconds since the Unix epoch (UTC), the unit every time column is stored in.
  int64_t NowUnix() const {
    return std::chrono::duration_cast<std::chrono::seconds>(Now().time_since_epoch()).count();
  }
};

class SystemClock final : public Clock {
 public:
  std::chrono::system_clock::time_point Now() const override {
    return std::chrono::system_clock::now();
  }
};

// A clock that only moves when told to; for tests.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t unix_seconds)
      : now_(std::chrono::system_clock::time_point(std::chrono::seconds(unix_seconds))) {}
  std::chrono::system_clock::time_point Now() const override { return now_; }
  void Set(int64_t unix_seconds) {
    now_ = std::chrono::system_clock::time_point(std::chrono::seconds(unix_seconds));
  }
  void Advance(std::chrono::seconds by) { now_ += by; }

 private:
  std::chrono::system_clock::time_point now_;
};

}  // namespace paybell::common

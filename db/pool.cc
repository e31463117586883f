#include "db/pool.h"

#include <spdlog/spdlog.h>

#include <random>
#include <string>
#include <thread>

#include "db/errors.h"
#include "server/common/error.h"

namespace paybell::db {

using common::Error;
using common::ErrorCode;

namespace {

// A deadlock or serialization failure means two transactions met; trying again a few times,
// a little apart, lets one of them through first. Past that, the caller retries later.
constexpr int kMaxConflictAttempts = 4;

void WaitBeforeConflictRetry(int attempt) {
  thread_local std::mt19937 random(std::random_device{}());
  const int cap_ms = 10 << attempt;  // 20, 40, 80 ms: full jitter below the cap
  std::this_thread::sleep_for(
      std::chrono::milliseconds(std::uniform_int_distribution<int>(0, cap_ms)(random)));
}

}  // namespace

ConnectionPool::ConnectionPool(const common::DatabaseUrl& url, size_t size) : url_(url) {
  for (size_t i = 0; i < size; ++i) {
    connections_.push_back(std::make_unique<Connection>(url_));
    busy_.push_back(false);
  }
}

ConnectionPool::~ConnectionPool() = default;

size_t ConnectionPool::Acquire(std::chrono::milliseconds wait) {
  std::unique_lock<std::mutex> lock(mu_);
  size_t index = 0;
  const bool got = released_.wait_for(lock, wait, [&] {
    for (size_t i = 0; i < busy_.size(); ++i) {
      if (!busy_[i]) {
        index = i;
        return true;
      }
    }
    return false;
  });
  if (!got) throw PoolExhausted();
  busy_[index] = true;
  return index;
}

void ConnectionPool::Release(size_t index) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    busy_[index] = false;
  }
  released_.notify_one();
}

void ConnectionPool::Run(std::string_view what, const std::function<void(Connection&)>& unit,
                         std::chrono::milliseconds wait) {
  const size_t index = Acquire(wait);
  struct Releaser {
    ConnectionPool* pool;
    size_t index;
    ~Releaser() { pool->Release(index); }
  } releaser{this, index};
  Connection& connection = *connections_[index];

  bool reconnected = false;
  for (int attempt = 1;; ++attempt) {
    try {
      connection.EnsureUsable();
    } catch (const Error& e) {
      spdlog::warn("database unavailable during {}: {}", what, e.what());
      throw Error(ErrorCode::kUnavailable, std::string(what) + ": database unavailable");
    }
    try {
      unit(connection);
      last_success_.store(std::chrono::steady_clock::now().time_since_epoch().count());
      return;
    } catch (const Error&) {
      throw;  // the unit's own domain error
    } catch (const std::exception& e) {
      switch (ClassifyFailure(e, connection)) {
        case DatabaseFailure::kConnectionLost:
          connection.Discard();
          if (!reconnected) {
            // The database may have restarted since this connection was last used: one more
            // run on a new connection tells a restart from an outage.
            spdlog::warn("database connection lost during {}; reconnecting to {}", what,
                         url_.HostForErrors());
            reconnected = true;
            continue;
          }
          spdlog::warn("database unavailable during {}: {}", what, ErrorMessage(e));
          throw Error(ErrorCode::kUnavailable, std::string(what) + ": database unavailable");
        case DatabaseFailure::kConflict:
          if (attempt < kMaxConflictAttempts) {
            spdlog::info("{}: {}; running it again (attempt {} of {})", what, ErrorMessage(e),
                         attempt + 1, kMaxConflictAttempts);
            WaitBeforeConflictRetry(attempt);
            continue;
          }
          spdlog::warn("{}: still conflicting after {} attempts: {}", what, attempt,
                       ErrorMessage(e));
          throw Error(ErrorCode::kUnavailable,
                      std::string(what) + ": conflicting with concurrent updates; try again");
        case DatabaseFailure::kUnavailable:
          spdlog::warn("database unavailable during {}: {}", what, ErrorMessage(e));
          throw Error(ErrorCode::kUnavailable, std::string(what) + ": database unavailable");
        case DatabaseFailure::kOther:
          RethrowAsDomainError(what);
      }
    }
  }
}

}  // namespace paybell::db

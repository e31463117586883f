// A fixed-size pool of database connections on SQLite or PostgreSQL that heal after the
// database went away, and the one place where database failures are retried or classified.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include "db/connection.h"
#include "server/common/database_url.h"
#include "server/common/error.h"

namespace paybell::db {

// Every connection was leased for the whole wait: the database is busy, not necessarily down.
class PoolExhausted : public common::Error {
 public:
  PoolExhausted()
      : common::Error(common::ErrorCode::kUnavailable, "all database connections are busy") {}
};

class ConnectionPool {
 public:
  // Opens `size` connections now, so an unreachable database fails start-up. Throws
  // common::Error(kUnavailable) naming the host (never the password).
  ConnectionPool(const common::DatabaseUrl& url, size_t size);
  ~ConnectionPool();
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  DatabaseKind kind() const { return url_.kind; }
  const common::DatabaseUrl& url() const { return url_; }

  // Runs `unit` on a leased, usable connection. A lost connection is discarded and the unit run
  // once more on a new one; a PostgreSQL serialization failure or deadlock (40001, 40P01) runs
  // it again up to a few times. So a unit must be safe to repeat: one transaction, or reads.
  // Database errors come out as common::Error (see errors.h); no free connection within
  // `wait` is PoolExhausted (kUnavailable). `what` names the operation in messages ("read
  // subscription").
  void Run(std::string_view what, const std::function<void(Connection&)>& unit,
           std::chrono::milliseconds wait = std::chrono::seconds(5));

  // When a unit of work last succeeded on any connection.
  std::chrono::steady_clock::time_point last_success() const {
    return std::chrono::steady_clock::time_point(
        std::chrono::steady_clock::duration(last_success_.load()));
  }

 private:
  size_t Acquire(std::chrono::milliseconds wait);
  void Release(size_t index);

  common::DatabaseUrl url_;
  std::vector<std::unique_ptr<Connection>> connections_;
  std::vector<bool> busy_;
  std::mutex mu_;
  std::condition_variable released_;
  std::atomic<std::chrono::steady_clock::rep> last_success_{0};
};

}  // namespace paybell::db

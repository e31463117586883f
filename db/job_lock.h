// One replica at a time for a background job (catch-up, reconcile). PostgreSQL: a session-level
// advisory lock held on a connection of its own for the length of the run, so it is released
// when the run ends, and by PostgreSQL when the process or its connection dies. SQLite: one
// process serves the database, and its scheduler runs one job at a time, so there is nothing
// to take.
#pragma once

#include <memory>
#include <mutex>
#include <string_view>

#include "server/common/database_url.h"

namespace paybell::db {

class Connection;

// The jobs that take the lock; each has its own key.
enum class Job { kEventSync = 1, kReconcile = 2 };

class JobLock {
 public:
  explicit JobLock(const common::DatabaseUrl& url);
  ~JobLock();
  JobLock(const JobLock&) = delete;
  JobLock& operator=(const JobLock&) = delete;

  // True when this process now holds the job's lock: run, then Release(). False when another
  // replica holds it. Throws common::Error(kUnavailable) while the database is down.
  bool TryAcquire(Job job);
  // Gives the lock back; never throws (a lost connection released it already).
  void Release(Job job);

 private:
  common::DatabaseUrl url_;
  std::mutex mutex_;
  std::unique_ptr<Connection> connection_;  // PostgreSQL only, opened on first use
};

}  // namespace paybell::db

// A fixed-size pool of SOCI sessions on SQLite or PostgreSQL, healing dead connections.
#pragma once

#include <soci/soci.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include "server/common/database_url.h"

namespace paybell::db {

using common::DatabaseKind;

class ConnectionPool {
 public:
  // Opens `size` sessions now, so an unreachable database fails start-up. For SQLite, creates
  // the file's directory and sets WAL mode, foreign keys and a busy timeout on every session.
  // Throws common::Error(kUnavailable) naming the host (never the password).
  ConnectionPool(const common::DatabaseUrl& url, size_t size);
  ~ConnectionPool();
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  DatabaseKind kind() const { return url_.kind; }
  const common::DatabaseUrl& url() const { return url_; }

  // Runs one unit of work on a leased session. A lost PostgreSQL connection is reconnected
  // and the unit run once more, so a unit must be safe to repeat: one transaction whose
  // writes are idempotent. SOCI errors become common::Error (see errors.h); waiting longer
  // than `wait` for a free session is kUnavailable.
  // `what` names the operation in error messages ("read subscription").
  void Run(std::string_view what, const std::function<void(soci::session&)>& unit,
           std::chrono::milliseconds wait = std::chrono::seconds(5));

  // Whether a trivial query succeeds now (readiness).
  bool Ping();

 private:
  std::unique_ptr<soci::session> Open() const;
  size_t Acquire(std::chrono::milliseconds wait);
  void Release(size_t index);

  common::DatabaseUrl url_;
  std::vector<std::unique_ptr<soci::session>> sessions_;
  std::vector<bool> busy_;
  std::mutex mu_;
  std::condition_variable released_;
};

// Begins a write transaction. On SQLite it takes the write lock up front (BEGIN IMMEDIATE), so
// two writers never deadlock upgrading read locks; on PostgreSQL it is a plain BEGIN. Rolls back
// unless Commit() is called.
class WriteTransaction {
 public:
  WriteTransaction(soci::session& session, DatabaseKind kind);
  ~WriteTransaction();
  WriteTransaction(const WriteTransaction&) = delete;
  WriteTransaction& operator=(const WriteTransaction&) = delete;
  void Commit();

 private:
  soci::session& session_;
  bool open_ = true;
};

}  // namespace paybell::db

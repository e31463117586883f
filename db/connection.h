// One pooled database connection: its SOCI session, the statements prepared on it, and the
// healing after the database went away.
#pragma once

#include <soci/soci.h>

#include <memory>

#include "server/common/database_url.h"

namespace paybell::db {

using common::DatabaseKind;

class SociRepositories;

// Opens a session as Paybell uses them: SQLite in WAL mode with foreign keys, a busy timeout
// and full sync; PostgreSQL with a connect timeout and every transaction at READ COMMITTED
// whatever the server's default. Throws common::Error(kUnavailable) naming the host (never
// the password).
std::unique_ptr<soci::session> OpenSession(const common::DatabaseUrl& url);

class Connection {
 public:
  // Opens the session now (start-up fails on an unreachable database).
  explicit Connection(const common::DatabaseUrl& url);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  DatabaseKind kind() const { return url_.kind; }

  // Reopens the session when it is known to be unusable: dropped after a connection error, left
  // without a backend by a failed reconnect, or marked bad by libpq. No round trip when it is
  // fine. Throws common::Error(kUnavailable) while the database is down; the next call tries
  // again, so every pooled connection heals on its next use once the database is back.
  void EnsureUsable();

  // Forgets the session and its prepared statements after a connection error.
  void Discard();

  // Whether libpq says the connection is dead (PostgreSQL; always false on SQLite).
  bool IsBroken();
  // Whether a transaction is still open on the connection (or failed on it).
  bool InTransaction();

  // Valid after EnsureUsable().
  soci::session& session() { return *session_; }
  // The repositories bound to this connection, with their statements prepared on first use and
  // kept until the connection is discarded.
  SociRepositories& repositories();

 private:
  common::DatabaseUrl url_;
  std::unique_ptr<soci::session> session_;
  std::unique_ptr<SociRepositories> repositories_;
};

}  // namespace paybell::db

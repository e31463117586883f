#include "db/connection.h"

#include <libpq-fe.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/sqlite3/soci-sqlite3.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "db/soci_repositories.h"
#include "server/common/error.h"

namespace paybell::db {

using common::Error;
using common::ErrorCode;

namespace {

// SOCI's connect-string parser takes double-quoted values.
std::string QuoteSociValue(const std::string& value) {
  std::string out = "\"";
  for (char c : value) {
    if (c == '"') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

// Switching to WAL needs a moment of exclusive access, and SQLite does not run the busy handler
// for it: several processes (or pools) opening a new file at once see "database is locked".
// Once the file is in WAL mode the pragma is a no-op, so retry briefly.
void EnableWal(soci::session& session) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (;;) {
    try {
      session << "PRAGMA journal_mode=WAL";
      return;
    } catch (const soci::soci_error& e) {
      if (std::string(e.what()).find("locked") == std::string::npos ||
          std::chrono::steady_clock::now() > deadline) {
        throw;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
}

// Debian's libsoci exports no typeinfo for its backends, so no dynamic_cast: the caller knows
// the session is PostgreSQL's.
PGconn* PostgresConnection(soci::session& session) {
  auto* backend = static_cast<soci::postgresql_session_backend*>(session.get_backend());
  return backend == nullptr ? nullptr : backend->conn_;
}

}  // namespace

std::unique_ptr<soci::session> OpenSession(const common::DatabaseUrl& url) {
  try {
    if (url.kind == DatabaseKind::kSqlite) {
      const auto dir = std::filesystem::path(url.sqlite_path).parent_path();
      std::error_code ec;
      if (!dir.empty()) std::filesystem::create_directories(dir, ec);
      if (ec) {
        throw Error(ErrorCode::kUnavailable,
                    "cannot create directory " + dir.string() + ": " + ec.message());
      }
      auto session = std::make_unique<soci::session>(
          soci::sqlite3, "db=" + QuoteSociValue(url.sqlite_path) + " timeout=5");
      // WAL lets readers run beside the writer; foreign keys and the busy timeout are
      // per-connection settings, so every pooled session gets them.
      EnableWal(*session);
      *session << "PRAGMA foreign_keys=ON";
      *session << "PRAGMA busy_timeout=5000";
      *session << "PRAGMA synchronous=FULL";
      return session;
    }
    std::string conninfo = url.pg_conninfo;
    if (conninfo.find("connect_timeout=") == std::string::npos) {
      conninfo += " connect_timeout='5'";
    }
    if (conninfo.find("application_name=") == std::string::npos) {
      conninfo += " application_name='paybell'";
    }
    // A database host that vanishes from the network (no RST) would otherwise hold a pooled
    // connection in a read for the kernel's default of minutes: probe idle connections and
    // give up on unacknowledged sends after 15 s. DATABASE_URL may set its own values.
    for (const char* setting : {"keepalives=1", "keepalives_idle=30", "keepalives_interval=10",
                                "keepalives_count=3", "tcp_user_timeout=15000"}) {
      const std::string key = std::string(setting).substr(0, std::string(setting).find('=') + 1);
      if (conninfo.find(key) == std::string::npos) conninfo += " " + std::string(setting);
    }
    auto session = std::make_unique<soci::session>(soci::postgresql, conninfo);
    // The rules take the tenant's lock and then read: READ COMMITTED makes each statement see
    // what the previous lock holder committed. Pinned here, so a server or database whose
    // default is REPEATABLE READ or SERIALIZABLE cannot change what a transaction sees.
    *session << "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED";
    return session;
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    std::string reason = e.what();
    for (char& c : reason) {
      if (c == '\n' || c == '\t') c = ' ';  // libpq's messages span lines; logs want one
    }
    while (!reason.empty() && reason.back() == ' ') reason.pop_back();
    const char* kind = url.kind == DatabaseKind::kSqlite ? "SQLite database" : "PostgreSQL";
    throw Error(ErrorCode::kUnavailable, std::string("cannot connect to ") + kind + " at " +
                                             url.HostForErrors() + ": " + reason);
  }
}

Connection::Connection(const common::DatabaseUrl& url) : url_(url), session_(OpenSession(url)) {}

Connection::~Connection() = default;

bool Connection::IsBroken() {
  if (!session_ || url_.kind != DatabaseKind::kPostgres) return false;
  PGconn* conn = PostgresConnection(*session_);
  return conn == nullptr || PQstatus(conn) == CONNECTION_BAD;
}

bool Connection::InTransaction() {
  if (!session_ || session_->get_backend() == nullptr) return false;
  if (url_.kind == DatabaseKind::kSqlite) {
    auto* backend = static_cast<soci::sqlite3_session_backend*>(session_->get_backend());
    return backend->conn_ != nullptr && sqlite_api::sqlite3_get_autocommit(backend->conn_) == 0;
  }
  PGconn* conn = PostgresConnection(*session_);
  return conn != nullptr && PQtransactionStatus(conn) != PQTRANS_IDLE;
}

void Connection::EnsureUsable() {
  // A failed soci::session::reconnect() leaves a session without a backend, whose every use
  // throws "Session is not connected." outside SOCI's connection-error category: so Paybell
  // never calls reconnect() and opens a new session instead.
  // A connection still inside a transaction (its rollback failed) would answer every
  // statement with "current transaction is aborted": start afresh too.
  if (session_ && session_->get_backend() != nullptr && !IsBroken() && !InTransaction()) return;
  Discard();
  spdlog::info("opening a new database connection to {}", url_.HostForErrors());
  session_ = OpenSession(url_);
}

void Connection::Discard() {
  if (repositories_) {
    // The server forgot this connection's prepared statements with the connection; SOCI would
    // otherwise try to DEALLOCATE each one on the dead connection.
    repositories_->ForgetServerStatements(url_.kind == DatabaseKind::kPostgres);
    repositories_.reset();
  }
  session_.reset();
}

SociRepositories& Connection::repositories() {
  if (!repositories_) repositories_ = std::make_unique<SociRepositories>(*session_, url_.kind);
  return *repositories_;
}

}  // namespace paybell::db

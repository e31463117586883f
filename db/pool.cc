#include "db/pool.h"

#include <soci/postgresql/soci-postgresql.h>
#include <soci/sqlite3/soci-sqlite3.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <string>
#include <thread>

#include "server/common/error.h"
#include "db/errors.h"

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

}  // namespace

ConnectionPool::ConnectionPool(const common::DatabaseUrl& url, size_t size) : url_(url) {
  if (url_.kind == DatabaseKind::kSqlite) {
    const auto dir = std::filesystem::path(url_.sqlite_path).parent_path();
    std::error_code ec;
    if (!dir.empty()) std::filesystem::create_directories(dir, ec);
    if (ec) {
      throw Error(ErrorCode::kUnavailable,
                  "cannot create directory " + dir.string() + ": " + ec.message());
    }
  }
  for (size_t i = 0; i < size; ++i) {
    sessions_.push_back(Open());
    busy_.push_back(false);
  }
}

ConnectionPool::~ConnectionPool() = default;

std::unique_ptr<soci::session> ConnectionPool::Open() const {
  try {
    if (url_.kind == DatabaseKind::kSqlite) {
      auto session = std::make_unique<soci::session>(
          soci::sqlite3, "db=" + QuoteSociValue(url_.sqlite_path) + " timeout=5");
      // WAL lets readers run beside the writer; foreign keys and the busy timeout are
      // per-connection settings, so every pooled session gets them.
      EnableWal(*session);
      *session << "PRAGMA foreign_keys=ON";
      *session << "PRAGMA busy_timeout=5000";
      *session << "PRAGMA synchronous=FULL";
      return session;
    }
    std::string conninfo = url_.pg_conninfo;
    if (conninfo.find("connect_timeout=") == std::string::npos) {
      conninfo += " connect_timeout='5'";
    }
    if (conninfo.find("application_name=") == std::string::npos) {
      conninfo += " application_name='paybell'";
    }
    return std::make_unique<soci::session>(soci::postgresql, conninfo);
  } catch (const std::exception& e) {
    std::string reason = e.what();
    for (char& c : reason) {
      if (c == '\n' || c == '\t') c = ' ';  // libpq's messages span lines; logs want one
    }
    while (!reason.empty() && reason.back() == ' ') reason.pop_back();
    const char* kind = url_.kind == DatabaseKind::kSqlite ? "SQLite database" : "PostgreSQL";
    throw Error(ErrorCode::kUnavailable, std::string("cannot connect to ") + kind + " at " +
                                             url_.HostForErrors() + ": " + reason);
  }
}

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
  if (!got) throw Error(ErrorCode::kUnavailable, "all database connections are busy");
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

void ConnectionPool::Run(std::string_view what, const std::function<void(soci::session&)>& unit,
                         std::chrono::milliseconds wait) {
  const size_t index = Acquire(wait);
  struct Releaser {
    ConnectionPool* pool;
    size_t index;
    ~Releaser() { pool->Release(index); }
  } releaser{this, index};
  soci::session& session = *sessions_[index];

  for (int attempt = 0;; ++attempt) {
    try {
      // No is_connected() check here: on PostgreSQL it costs a round trip per call. A dead
      // session shows as a connection error below, and is reconnected then.
      unit(session);
      return;
    } catch (const std::exception& e) {
      if (attempt == 0 && url_.kind == DatabaseKind::kPostgres && IsConnectionLost(e)) {
        spdlog::warn("database connection lost; reconnecting to {}", url_.HostForErrors());
        try {
          session.reconnect();
          continue;
        } catch (const std::exception& reconnect_error) {
          spdlog::warn("reconnect failed: {}", reconnect_error.what());
        }
      }
      RethrowAsDomainError(what);
    }
  }
}

bool ConnectionPool::Ping() {
  try {
    Run("ping", [](soci::session& session) {
      int one = 0;
      session << "SELECT 1", soci::into(one);
    });
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

WriteTransaction::WriteTransaction(soci::session& session, DatabaseKind kind) : session_(session) {
  session_.once << (kind == DatabaseKind::kSqlite ? "BEGIN IMMEDIATE" : "BEGIN");
}

WriteTransaction::~WriteTransaction() {
  if (!open_) return;
  try {
    session_.once << "ROLLBACK";
  } catch (const std::exception& e) {
    spdlog::warn("rollback failed: {}", e.what());
  }
}

void WriteTransaction::Commit() {
  session_.once << "COMMIT";
  open_ = false;
}

}  // namespace paybell::db

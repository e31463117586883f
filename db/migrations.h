// Versioned schema migrations: the SQL files of db/migrations/, embedded at build time and
// applied in order, each in its own transaction, recorded in schema_migrations.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "db/pool.h"

namespace paybell::db {

struct Migration {
  int version = 0;   // from the file name: 0001_initial.sql → 1
  std::string name;  // "initial"
  std::string sql;   // as written, with {{placeholders}}
};

// The migrations compiled into this binary, in version order.
const std::vector<Migration>& BuiltinMigrations();

// Turns (file name, SQL) pairs into migrations sorted by version. Throws std::invalid_argument
// for a name not shaped NNNN_name.sql, or two files with one version.
std::vector<Migration> ParseMigrationFiles(
    const std::vector<std::pair<std::string, std::string>>& files);

// Replaces the dialect placeholders ({{identity_pk}}) for one database kind.
std::string RenderForDialect(const std::string& sql, DatabaseKind kind);

// Splits a script into statements on ';' outside quotes and comments; drops empty ones.
std::vector<std::string> SplitStatements(const std::string& sql);

struct MigrationReport {
  std::vector<int> applied;  // versions applied by this call
  int current_version = 0;   // highest version recorded afterwards
};

// Applies every migration not yet recorded, in order. Each runs in one transaction together
// with its schema_migrations row, so a failure leaves the database at the previous version.
// Concurrent callers (several replicas starting at once) are serialised: PostgreSQL by an
// advisory lock, SQLite by its write lock. Throws common::Error on failure.
MigrationReport ApplyMigrations(ConnectionPool& pool, const std::vector<Migration>& migrations,
                                int64_t now_unix);

}  // namespace paybell::db

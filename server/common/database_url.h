// DATABASE_URL: "sqlite:PATH" or a libpq URI, turned into what SOCI's backends accept.
#pragma once

#include <string>
#include <string_view>

namespace paybell::common {

enum class DatabaseKind { kSqlite, kPostgres };

struct DatabaseUrl {
  DatabaseKind kind = DatabaseKind::kSqlite;
  std::string sqlite_path;
  // key=value conninfo for SOCI's PostgreSQL backend, which cannot take a URI. Holds the
  // password: never log it; log Describe() instead.
  std::string pg_conninfo;
  std::string pg_host;  // empty: libpq's default (local socket)
  std::string pg_port;
  std::string pg_dbname;
  std::string pg_user;

  // "sqlite ./paybell-data/paybell.db" or "postgresql paybell@db.internal:5432/paybell";
  // never contains the password.
  std::string Describe() const;
  // Host (and port) to name in a "cannot connect" message.
  std::string HostForErrors() const;
};

// Throws std::invalid_argument with a message that never repeats the password.
DatabaseUrl ParseDatabaseUrl(std::string_view text);

// Quotes a libpq conninfo value: 'value' with \ and ' escaped.
std::string QuoteConninfoValue(std::string_view value);

}  // namespace paybell::common

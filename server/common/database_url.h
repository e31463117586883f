// DATABASE_URL: "sqlite:PATH" or a libpq URI (parsed by libpq itself), turned into what SOCI's
// backends accept.
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
  // As libpq takes them: comma-separated for several hosts ("h1,h2" with "5432,5433" or one
  // port for all); a host starting with '/' is a Unix socket directory; empty: libpq's default.
  std::string pg_host;
  std::string pg_port;
  std::string pg_dbname;  // the URI's, else the user name (what libpq uses without PGDATABASE)
  std::string pg_user;

  // "sqlite ./paybell-data/paybell.db", "postgresql paybell@db.internal:5432/paybell",
  // "postgresql paybell@h1:5432,h2:5433/paybell"; never contains the password.
  std::string Describe() const;
  // Hosts (with ports) or socket directory to name in a "cannot connect" message.
  std::string HostForErrors() const;
};

// Throws std::invalid_argument with a message that never repeats the password.
DatabaseUrl ParseDatabaseUrl(std::string_view text);

// Quotes a libpq conninfo value: 'value' with \ and ' escaped.
std::string QuoteConninfoValue(std::string_view value);

}  // namespace paybell::common

// Fresh databases for tests: a SQLite file in a temp dir, or a new schema on the throwaway
// PostgreSQL that tools/test starts (PAYBELL_TEST_PG).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "server/common/database_url.h"
#include "tests/support/temp_dir.h"

namespace paybell::testing {

// PAYBELL_TEST_PG, a postgresql:// URL; nullopt when unset.
std::optional<std::string> TestPostgresUrl();

// Whether a missing PAYBELL_TEST_PG must fail the test instead of skipping it (tools/test sets
// PAYBELL_TEST_REQUIRE_PG=1 so CI never silently skips PostgreSQL).
bool PostgresRequired();

class TestDatabase {
 public:
  virtual ~TestDatabase() = default;
  // The URL a server or pool should use; it points at this test's private database.
  virtual std::string url() const = 0;
  common::DatabaseUrl parsed() const { return common::ParseDatabaseUrl(url()); }
};

class SqliteTestDatabase final : public TestDatabase {
 public:
  std::string url() const override { return "sqlite:" + dir_.File("test.db"); }

 private:
  TempDir dir_;
};

// A schema of its own on the test PostgreSQL, dropped at the end; search_path points at it.
class PostgresTestDatabase final : public TestDatabase {
 public:
  explicit PostgresTestDatabase(const std::string& base_url);
  ~PostgresTestDatabase() override;
  std::string url() const override;
  const std::string& schema() const { return schema_; }

 private:
  std::string base_url_;
  std::string schema_;
};

}  // namespace paybell::testing

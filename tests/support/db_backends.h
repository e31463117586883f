// The two database engines, as type parameters for typed test suites: every repository test
// runs once on SQLite and once on PostgreSQL.
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "tests/support/test_database.h"

namespace paybell::testing {

struct Sqlite {
  static constexpr const char* kName = "SQLite";
  static std::unique_ptr<TestDatabase> Create() { return std::make_unique<SqliteTestDatabase>(); }
};

struct Postgres {
  static constexpr const char* kName = "PostgreSQL";
  // nullptr when PAYBELL_TEST_PG is unset; the fixture then skips (or fails under tools/test).
  static std::unique_ptr<TestDatabase> Create() {
    auto url = TestPostgresUrl();
    if (!url) return nullptr;
    return std::make_unique<PostgresTestDatabase>(*url);
  }
};

using Engines = ::testing::Types<Sqlite, Postgres>;

struct EngineNames {
  template <typename T>
  static std::string GetName(int) {
    return T::kName;
  }
};

// Creates the engine's fresh database in SetUp; skips PostgreSQL cleanly when no server was
// provided, unless PAYBELL_TEST_REQUIRE_PG=1 (tools/test) makes that a failure.
template <typename Engine>
class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    database_ = Engine::Create();
    if (!database_) {
      if (PostgresRequired()) {
        FAIL() << "PAYBELL_TEST_PG is not set but PAYBELL_TEST_REQUIRE_PG=1";
      }
      GTEST_SKIP() << "PAYBELL_TEST_PG is not set: no PostgreSQL to test against "
                      "(tools/test starts one)";
    }
  }
  std::unique_ptr<TestDatabase> database_;
};

}  // namespace paybell::testing

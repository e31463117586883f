#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "db/migrations.h"
#include "db/pool.h"
#include "server/common/error.h"
#include "tests/support/db_backends.h"

namespace paybell::db {
namespace {

using testing::EngineNames;
using testing::Engines;
using testing::EngineTest;

constexpr int64_t kNow = 1'800'000'000;

template <typename Engine>
class MigrationsDbTest : public EngineTest<Engine> {};
TYPED_TEST_SUITE(MigrationsDbTest, Engines, EngineNames);

int CountRows(ConnectionPool& pool, const std::string& table) {
  int count = -1;
  pool.Run("count", [&](Connection& connection) {
    soci::session& s = connection.session();
    s << "SELECT COUNT(*) FROM " + table, soci::into(count);
  });
  return count;
}

TYPED_TEST(MigrationsDbTest, CreatesEveryTableOfTheDesignAndRecordsTheVersion) {
  ConnectionPool pool(this->database_->parsed(), 2);
  const auto report = ApplyMigrations(pool, BuiltinMigrations(), kNow);
  EXPECT_EQ(report.applied.size(), BuiltinMigrations().size());
  EXPECT_EQ(report.current_version, BuiltinMigrations().back().version);
  for (const char* table :
       {"billing_subscriptions", "billing_events", "checkout_sessions", "audit_log",
        "tenant_notifications", "notification_log", "notification_debounce", "checkout_claims"}) {
    EXPECT_EQ(CountRows(pool, table), 0) << table;
  }
  EXPECT_EQ(CountRows(pool, "schema_migrations"), static_cast<int>(BuiltinMigrations().size()));
  std::string name;
  long long applied_at = 0;
  pool.Run("read", [&](Connection& connection) {
    soci::session& s = connection.session();
    s << "SELECT name, applied_at FROM schema_migrations WHERE version = 1", soci::into(name),
        soci::into(applied_at);
  });
  EXPECT_EQ(name, "initial");
  EXPECT_EQ(applied_at, kNow);
}

TYPED_TEST(MigrationsDbTest, SecondRunAppliesNothing) {
  ConnectionPool pool(this->database_->parsed(), 1);
  ApplyMigrations(pool, BuiltinMigrations(), kNow);
  const auto again = ApplyMigrations(pool, BuiltinMigrations(), kNow + 10);
  EXPECT_TRUE(again.applied.empty());
  EXPECT_EQ(again.current_version, BuiltinMigrations().back().version);
}

TYPED_TEST(MigrationsDbTest, AppliesOnlyNewMigrationsInOrder) {
  ConnectionPool pool(this->database_->parsed(), 1);
  ApplyMigrations(pool, BuiltinMigrations(), kNow);
  auto extended = BuiltinMigrations();
  const int next = extended.back().version + 1;
  extended.push_back({next + 1, "second", "CREATE TABLE t_second (id INTEGER)"});
  extended.push_back({next, "first",
                      "CREATE TABLE t_first (id INTEGER);"
                      "INSERT INTO t_first (id) VALUES (1)"});
  std::sort(extended.begin(), extended.end(),
            [](const Migration& a, const Migration& b) { return a.version < b.version; });
  const auto report = ApplyMigrations(pool, extended, kNow);
  EXPECT_THAT(report.applied, ::testing::ElementsAre(next, next + 1));
  EXPECT_EQ(CountRows(pool, "t_first"), 1);
}

TYPED_TEST(MigrationsDbTest, AFailingMigrationLeavesNoTrace) {
  ConnectionPool pool(this->database_->parsed(), 1);
  ApplyMigrations(pool, BuiltinMigrations(), kNow);
  auto broken = BuiltinMigrations();
  const int next = broken.back().version + 1;
  broken.push_back({next, "broken", "CREATE TABLE t_half (id INTEGER); SELECT * FROM nowhere"});
  EXPECT_THROW(ApplyMigrations(pool, broken, kNow), common::Error);
  int recorded = -1;
  pool.Run("read", [&](Connection& connection) {
    soci::session& s = connection.session();
    s << "SELECT COUNT(*) FROM schema_migrations WHERE version = :v", soci::use(next),
        soci::into(recorded);
  });
  EXPECT_EQ(recorded, 0);
  // The table the migration created before failing was rolled back with it.
  EXPECT_NO_THROW(
      ApplyMigrations(pool, {{next, "retry", "CREATE TABLE t_half (id INTEGER)"}}, kNow));
}

TYPED_TEST(MigrationsDbTest, ConcurrentStartsMigrateOnce) {
  std::vector<MigrationReport> reports(3);
  std::vector<std::thread> threads;
  for (auto& report : reports) {
    threads.emplace_back([&, db = this->database_->parsed()] {
      ConnectionPool pool(db, 1);
      report = ApplyMigrations(pool, BuiltinMigrations(), kNow);
    });
  }
  for (auto& t : threads) t.join();
  size_t applied = 0;
  for (const auto& r : reports) {
    applied += r.applied.size();
    EXPECT_EQ(r.current_version, BuiltinMigrations().back().version);
  }
  EXPECT_EQ(applied, BuiltinMigrations().size());
}

}  // namespace
}  // namespace paybell::db

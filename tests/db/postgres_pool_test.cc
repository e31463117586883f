// PostgreSQL-only behaviour of the pool: healing after the server drops connections, and the
// start-up error for an unreachable server.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <soci/postgresql/soci-postgresql.h>

#include "server/common/error.h"
#include "db/migrations.h"
#include "db/pool.h"
#include "db/subscription_repository.h"
#include "tests/support/db_backends.h"

namespace paybell::db {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class PostgresPoolTest : public testing::EngineTest<testing::Postgres> {};

TEST_F(PostgresPoolTest, RecoversWhenTheServerDropsEveryConnection) {
  // A name of its own, so only this test's sessions are dropped when tests run in parallel.
  auto* pg = static_cast<testing::PostgresTestDatabase*>(database_.get());
  const std::string app_name = "paybell_" + pg->schema();
  ConnectionPool pool(common::ParseDatabaseUrl(pg->url() + "&application_name=" + app_name), 3);
  ApplyMigrations(pool, BuiltinMigrations(), 1'800'000'000);
  SociSubscriptionRepository repo(pool);
  ASSERT_FALSE(repo.Find("t1").has_value());

  // What a PostgreSQL restart or failover does to pooled sessions.
  soci::session admin(soci::postgresql,
                      common::ParseDatabaseUrl(*testing::TestPostgresUrl()).pg_conninfo);
  int killed = 0;
  admin << "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity "
           "WHERE application_name = :name",
      soci::use(app_name), soci::into(killed);
  ASSERT_GE(killed, 1);

  // Every session was dropped; each reconnects on its next use.
  for (int i = 0; i < 6; ++i) EXPECT_FALSE(repo.Find("t1").has_value()) << "call " << i;
}

TEST(PostgresStartupTest, UnreachableServerNamesTheHostButNotThePassword) {
  try {
    ConnectionPool pool(
        common::ParseDatabaseUrl("postgresql://paybell:hunter2secret@127.0.0.1:1/x"), 1);
    FAIL() << "connected to port 1";
  } catch (const common::Error& e) {
    EXPECT_EQ(e.code(), common::ErrorCode::kUnavailable);
    EXPECT_THAT(e.what(), HasSubstr("127.0.0.1:1"));
    EXPECT_THAT(e.what(), Not(HasSubstr("hunter2secret")));
  }
}

}  // namespace
}  // namespace paybell::db

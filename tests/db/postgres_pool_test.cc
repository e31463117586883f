// PostgreSQL-only behaviour of the database layer: healing after the server dropped every
// connection or refused new ones for a while, the start-up error for an unreachable server,
// READ COMMITTED whatever the server's default, and deadlocks run again.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <soci/postgresql/soci-postgresql.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "db/errors.h"
#include "db/migrations.h"
#include "db/soci_database.h"
#include "server/common/error.h"
#include "server/webhooks/event_ingestor.h"
#include "tests/support/db_backends.h"
#include "tests/support/stripe_events.h"

namespace paybell::db {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class PostgresPoolTest : public testing::EngineTest<testing::Postgres> {
 protected:
  testing::PostgresTestDatabase& pg() {
    return static_cast<testing::PostgresTestDatabase&>(*database_);
  }
  soci::session Admin() {
    return soci::session(soci::postgresql,
                         common::ParseDatabaseUrl(*testing::TestPostgresUrl()).pg_conninfo);
  }
  std::optional<domain::Subscription> Find(Database& db, const std::string& tenant) {
    std::optional<domain::Subscription> found;
    db.Read("find", [&](UnitOfWork& unit) { found = unit.subscriptions().Find(tenant); });
    return found;
  }
};

TEST_F(PostgresPoolTest, RecoversWhenTheServerDropsEveryConnection) {
  // A name of its own, so only this test's sessions are dropped when tests run in parallel.
  const std::string app_name = "paybell_" + pg().schema();
  SociDatabase db(common::ParseDatabaseUrl(pg().url() + "&application_name=" + app_name), 3);
  ApplyMigrations(db.pool(), BuiltinMigrations(), 1'800'000'000);
  ASSERT_FALSE(Find(db, "t1").has_value());  // prepares statements on the connection

  // What a PostgreSQL restart or failover does to pooled sessions.
  soci::session admin = Admin();
  int killed = 0;
  admin << "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity "
           "WHERE application_name = :name",
      soci::use(app_name), soci::into(killed);
  ASSERT_GE(killed, 1);

  // Every session was dropped; each reconnects on its next use and prepares its statements
  // again.
  for (int i = 0; i < 6; ++i) EXPECT_FALSE(Find(db, "t1").has_value()) << "call " << i;
  EXPECT_TRUE(db.Ping());
}

// While PostgreSQL restarts, a reconnect fails; SOCI then leaves the session without a backend
// and answers every later use with "Session is not connected.", outside its connection-error
// category. The pool must open a new session once the server takes connections again, and
// answer UNAVAILABLE (never INTERNAL) until then. A role that may not log in for a while plays
// the restarting server, so the shared test cluster keeps running.
TEST_F(PostgresPoolTest, HealsAfterReconnectsFailedWhileTheServerRefusedConnections) {
  const std::string role = "r_" + pg().schema();
  soci::session admin = Admin();
  admin << "CREATE ROLE " + role + " LOGIN";  // generated name: letters, digits, '_'
  admin << "GRANT ALL ON SCHEMA " + pg().schema() + " TO " + role;
  struct DropRole {
    soci::session& admin;
    std::string role;
    ~DropRole() {
      try {
        admin << "DROP OWNED BY " + role;
        admin << "DROP ROLE " + role;
      } catch (const std::exception&) {
      }
    }
  } drop_role{admin, role};

  std::string url = pg().url();
  url.replace(url.find("paybell@"), 8, role + "@");
  url += "%20-c%20default_transaction_isolation%3Dserializable";  // pinned back on every session
  SociDatabase db(common::ParseDatabaseUrl(url + "&application_name=" + role), 2);
  ApplyMigrations(db.pool(), BuiltinMigrations(), 1'800'000'000);
  ASSERT_FALSE(Find(db, "t1").has_value());

  admin << "ALTER ROLE " + role + " NOLOGIN";
  admin << "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :r",
      soci::use(role);
  for (int i = 0; i < 4; ++i) {
    try {
      Find(db, "t1");
      ADD_FAILURE() << "read while the server refuses connections";
    } catch (const common::Error& e) {
      EXPECT_EQ(e.code(), common::ErrorCode::kUnavailable) << e.what();
    }
  }
  EXPECT_FALSE(db.Ping());

  admin << "ALTER ROLE " + role + " LOGIN";
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(Find(db, "t1").has_value()) << "call " << i;
  EXPECT_TRUE(db.Ping());
  db.Transact("write", [](UnitOfWork& unit) {
    domain::Subscription s;
    s.tenant_id = "t1";
    s.status = domain::SubscriptionStatus::kActive;
    unit.subscriptions().Upsert(s);
    unit.Commit();
  });
  EXPECT_TRUE(Find(db, "t1").has_value());
  // The healed connections are new sessions, set up as at start-up (SOCI's own reconnect()
  // would not pin the isolation level again).
  std::string level;
  db.Transact("show", [&](UnitOfWork& unit) {
    static_cast<SociUnitOfWork&>(unit).session() << "SHOW default_transaction_isolation",
        soci::into(level);
  });
  EXPECT_EQ(level, "read committed");
}

// Errors that mean "this connection is gone" whatever SOCI's category says.
TEST_F(PostgresPoolTest, ClassifiesLostConnectionsWhateverTheirCategory) {
  const std::string app_name = "paybell_c_" + pg().schema();
  Connection connection(common::ParseDatabaseUrl(pg().url() + "&application_name=" + app_name));
  // What SOCI throws for a session that a failed reconnect() left without a backend.
  EXPECT_EQ(ClassifyFailure(soci::soci_error("Session is not connected."), connection),
            DatabaseFailure::kConnectionLost);
  EXPECT_EQ(ClassifyFailure(soci::soci_error("syntax error"), connection), DatabaseFailure::kOther);
  soci::session admin = Admin();
  admin << "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :n",
      soci::use(app_name);
  bool failed = false;
  try {
    int one = 0;
    connection.session() << "SELECT 1", soci::into(one);
  } catch (const soci::soci_error& e) {
    failed = true;
    EXPECT_EQ(ClassifyFailure(e, connection), DatabaseFailure::kConnectionLost) << e.what();
  }
  EXPECT_TRUE(failed) << "a terminated connection answered";
  // libpq now knows the connection is dead: any error on it means a lost connection, whatever
  // its message or category.
  EXPECT_TRUE(connection.IsBroken());
  EXPECT_EQ(ClassifyFailure(soci::soci_error("Cannot execute query."), connection),
            DatabaseFailure::kConnectionLost);
}

TEST_F(PostgresPoolTest, TransactionsRunAtReadCommittedWhateverTheServerDefault) {
  SociDatabase db(
      common::ParseDatabaseUrl(pg().url() + "%20-c%20default_transaction_isolation%3Dserializable"),
      1);
  std::string level;
  db.Transact("show", [&](UnitOfWork& unit) {
    static_cast<SociUnitOfWork&>(unit).session() << "SHOW transaction_isolation", soci::into(level);
  });
  EXPECT_EQ(level, "read committed");
}

// Two transactions taking two tenants' locks in opposite orders deadlock; PostgreSQL aborts one
// (40P01), and the database layer runs it again instead of failing the request.
TEST_F(PostgresPoolTest, ADeadlockedTransactionIsRunAgain) {
  SociDatabase db(pg().parsed(), 2);
  ApplyMigrations(db.pool(), BuiltinMigrations(), 1'800'000'000);
  std::mutex mu;
  std::condition_variable cv;
  int holding_first = 0;
  std::atomic<int> runs{0};
  auto transfer = [&](const std::string& first, const std::string& second) {
    bool waited = false;
    db.Transact("lock two tenants", [&](UnitOfWork& unit) {
      ++runs;
      unit.LockTenant(first);
      if (!waited) {  // only the first run meets the other transaction
        waited = true;
        std::unique_lock<std::mutex> lock(mu);
        ++holding_first;
        cv.notify_all();
        cv.wait(lock, [&] { return holding_first == 2; });
      }
      unit.LockTenant(second);
      unit.Commit();
    });
  };
  std::exception_ptr failure_a, failure_b;
  std::thread a([&] {
    try {
      transfer("tenant_a", "tenant_b");
    } catch (...) {
      failure_a = std::current_exception();
    }
  });
  std::thread b([&] {
    try {
      transfer("tenant_b", "tenant_a");
    } catch (...) {
      failure_b = std::current_exception();
    }
  });
  a.join();
  b.join();
  EXPECT_FALSE(failure_a);
  EXPECT_FALSE(failure_b);
  EXPECT_EQ(runs.load(), 3);  // one of the two ran twice
}

// The webhook's statements are prepared once per connection and kept: later events reuse them
// (one round trip each) instead of preparing, executing and deallocating every statement.
TEST_F(PostgresPoolTest, WebhookStatementsArePreparedOnceAndReused) {
  SociDatabase db(pg().parsed(), 1);  // one connection, so every unit below shares it
  ApplyMigrations(db.pool(), BuiltinMigrations(), 1'800'000'000);
  common::Config config;
  config.stripe_webhook_secrets = {"whsec_prepared"};
  common::FakeClock clock(1'800'001'000);
  struct NoNotifications final : webhooks::BillingNotifications {
    void Raise(db::UnitOfWork&, const std::string&, const domain::TriggerEvent&,
               const std::string&) override {}
  } sink;
  webhooks::EventIngestor ingestor(db, config, clock, sink);
  auto deliver = [&](int i) {
    testing::SubscriptionSpec spec;
    const std::string payload =
        testing::EventPayload("evt_" + std::to_string(i), "customer.subscription.updated", 100 + i,
                              testing::SubscriptionObject(spec, testing::ApiShape::kCurrent));
    ingestor.Ingest(payload, testing::SignatureHeader("whsec_prepared", clock.NowUnix(), payload),
                    "");
  };
  auto prepared = [&] {
    std::set<std::string> names;
    db.Read("list prepared statements", [&](UnitOfWork& unit) {
      soci::rowset<soci::row> rows = (static_cast<SociUnitOfWork&>(unit).session().prepare
                                      << "SELECT name, statement FROM pg_prepared_statements");
      for (const soci::row& row : rows) {
        const std::string statement = row.get<std::string>(1);
        // This query is itself a one-shot prepared statement, under a new name each time.
        if (statement.find("pg_prepared_statements") != std::string::npos) continue;
        names.insert(row.get<std::string>(0) + " " + statement.substr(0, 40));
      }
    });
    return names;
  };
  deliver(0);
  const std::set<std::string> after_first = prepared();
  for (int i = 1; i <= 10; ++i) deliver(i);
  const std::set<std::string> after_eleven = prepared();
  EXPECT_EQ(after_eleven, after_first);
  bool insert_event_kept = false;
  for (const std::string& s : after_first) {
    insert_event_kept |= s.find("INSERT INTO billing_events") != std::string::npos;
  }
  EXPECT_TRUE(insert_event_kept) << "prepared: " << ::testing::PrintToString(after_first);
}

// PostgreSQL's DETAIL line of a constraint violation holds the whole failing row: an event's
// payload, an email. What Paybell logs of a database error keeps the message and the SQLSTATE.
TEST_F(PostgresPoolTest, LoggedErrorsLeaveOutTheFailingRow) {
  SociDatabase db(pg().parsed(), 1);
  ApplyMigrations(db.pool(), BuiltinMigrations(), 1'800'000'000);
  std::string logged;
  db.pool().Run("t", [&](Connection& c) {
    try {
      c.session() << "INSERT INTO billing_subscriptions (tenant_id, status, created_at, "
                     "updated_at) VALUES ('ann.secret@example.com', 'bogus', 1, 1)";
      ADD_FAILURE() << "the CHECK constraint let a bad status in";
    } catch (const soci::soci_error& e) {
      EXPECT_THAT(e.get_error_message(), HasSubstr("ann.secret@example.com"));  // libpq's DETAIL
      logged = ErrorMessage(e);
    }
  });
  EXPECT_THAT(logged, HasSubstr("check constraint"));
  EXPECT_THAT(logged, HasSubstr("SQLSTATE 23514"));
  EXPECT_THAT(logged, Not(HasSubstr("ann.secret")));
}

TEST(PostgresStartupTest, UnreachableServerNamesTheHostButNotThePassword) {
  try {
    SociDatabase db(common::ParseDatabaseUrl("postgresql://paybell:hunter2secret@127.0.0.1:1/x"),
                    1);
    FAIL() << "connected to port 1";
  } catch (const common::Error& e) {
    EXPECT_EQ(e.code(), common::ErrorCode::kUnavailable);
    EXPECT_THAT(e.what(), HasSubstr("127.0.0.1:1"));
    EXPECT_THAT(e.what(), Not(HasSubstr("hunter2secret")));
  }
}

}  // namespace
}  // namespace paybell::db

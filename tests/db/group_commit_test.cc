// Group commit on real SQLite and PostgreSQL: units arriving together share one transaction, a
// unit that fails fails only its own caller, and nothing is lost or applied twice.
#include "db/group_commit.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <optional>
#include <set>
#include <thread>

#include "db/migrations.h"
#include "db/soci_database.h"
#include "server/common/error.h"
#include "tests/support/db_backends.h"

namespace paybell::db {
namespace {

using common::Error;
using common::ErrorCode;
using testing::EngineNames;
using testing::Engines;
using testing::EngineTest;

constexpr int64_t kNow = 1'800'000'000;

// The real database, counting the transactions it was asked for.
class CountingDatabase final : public Database {
 public:
  explicit CountingDatabase(Database& inner) : inner_(inner) {}
  void Transact(std::string_view what, const std::function<void(UnitOfWork&)>& work) override {
    ++transactions;
    inner_.Transact(what, work);
  }
  void Read(std::string_view what, const std::function<void(UnitOfWork&)>& work) override {
    inner_.Read(what, work);
  }
  bool Ping() override { return inner_.Ping(); }
  std::atomic<int> transactions{0};

 private:
  Database& inner_;
};

// Polls `done` until it holds or 10 s pass.
template <typename Done>
bool Eventually(Done done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

template <typename Engine>
class GroupCommitTest : public EngineTest<Engine> {
 protected:
  void SetUp() override {
    EngineTest<Engine>::SetUp();
    if (this->IsSkipped() || this->HasFatalFailure()) return;
    db_ = std::make_unique<SociDatabase>(this->database_->parsed(), 4);
    ApplyMigrations(db_->pool(), BuiltinMigrations(), kNow);
    counting_ = std::make_unique<CountingDatabase>(*db_);
    group_ = std::make_unique<GroupCommit>(*counting_, GroupCommit::Options{"test", 1, 64});
  }
  void TearDown() override {
    if (group_) group_->Stop();
  }

  // A unit that records `target` in the audit log for `tenant`.
  static std::function<void(UnitOfWork&)> Append(const std::string& tenant,
                                                 const std::string& target) {
    return [tenant, target](UnitOfWork& unit) {
      AuditEntry entry;
      entry.at = kNow;
      entry.actor = "test";
      entry.tenant_id = tenant;
      entry.action = "test.unit";
      entry.target = target;
      unit.audit().Append(entry);
    };
  }

  std::multiset<std::string> Targets(const std::string& tenant) {
    std::multiset<std::string> out;
    db_->Read("t", [&](UnitOfWork& unit) {
      for (const auto& e : unit.audit().ListForTenant(tenant, 1000)) out.insert(e.target);
    });
    return out;
  }

  // Holds the writer in a first unit until `units` more are queued, then runs them all; returns
  // each caller's error text ("" when it succeeded), in submission order.
  std::vector<std::string> RunTogether(const std::vector<std::function<void(UnitOfWork&)>>& units) {
    std::atomic<bool> release{false};
    std::thread blocker([&] {
      group_->Run(
          [&](UnitOfWork& unit) {
            Append("blocker", "b")(unit);
            Eventually([&] { return release.load(); });
          },
          {});
    });
    EXPECT_TRUE(Eventually([&] { return counting_->transactions.load() == 1; }));
    std::vector<std::future<std::string>> answers;
    for (const auto& work : units) {
      answers.push_back(std::async(std::launch::async, [this, work] {
        try {
          group_->Run(work, {"acme"});
          return std::string();
        } catch (const std::exception& e) {
          return std::string(e.what()).empty() ? std::string("error") : std::string(e.what());
        }
      }));
      // One at a time, so they queue (and run) in submission order.
      EXPECT_TRUE(Eventually([&] { return group_->queued() == answers.size(); }));
    }
    release = true;
    blocker.join();
    std::vector<std::string> out;
    for (auto& a : answers) out.push_back(a.get());
    return out;
  }

  std::unique_ptr<SociDatabase> db_;
  std::unique_ptr<CountingDatabase> counting_;
  std::unique_ptr<GroupCommit> group_;
};

TYPED_TEST_SUITE(GroupCommitTest, Engines, EngineNames);

TYPED_TEST(GroupCommitTest, UnitsArrivingTogetherShareOneTransaction) {
  std::vector<std::function<void(UnitOfWork&)>> units;
  for (int i = 0; i < 20; ++i) units.push_back(this->Append("acme", "u" + std::to_string(i)));
  const auto errors = this->RunTogether(units);
  for (const auto& e : errors) EXPECT_EQ(e, "");
  EXPECT_EQ(this->counting_->transactions.load(), 2) << "the blocker's, then one for all 20";
  const auto targets = this->Targets("acme");
  EXPECT_EQ(targets.size(), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(targets.count("u" + std::to_string(i)), 1u);
}

TYPED_TEST(GroupCommitTest, AUnitThatThrowsFailsOnlyItsOwnCaller) {
  std::vector<std::function<void(UnitOfWork&)>> units;
  for (int i = 0; i < 6; ++i) units.push_back(this->Append("acme", "u" + std::to_string(i)));
  units[3] = [](UnitOfWork& unit) {
    TestFixture::Append("acme", "bad")(unit);
    throw Error(ErrorCode::kInvalidArgument, "unit 3 refuses");
  };
  const auto errors = this->RunTogether(units);
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(errors[i], i == 3 ? "unit 3 refuses" : "") << i;
  }
  const auto targets = this->Targets("acme");
  EXPECT_EQ(targets.count("bad"), 0u) << "the failed unit's write was rolled back";
  EXPECT_EQ(targets.size(), 5u) << "each neighbour once, although the shared try wrote them too";
  // the blocker, the shared attempt, then each of the 6 alone
  EXPECT_EQ(this->counting_->transactions.load(), 8);
}

TYPED_TEST(GroupCommitTest, AStatementThatFailsInTheSharedTransactionFailsOnlyItsUnit) {
  // A unique key violated by the fourth unit: on PostgreSQL it aborts the shared transaction
  // for every later statement, so the neighbours must be run again on their own.
  this->db_->pool().Run(
      "t", [](Connection& c) { c.session() << "CREATE TABLE gc_keys (k TEXT PRIMARY KEY)"; });
  auto keyed = [](const std::string& key, const std::string& target) {
    return [key, target](UnitOfWork& unit) {
      static_cast<SociUnitOfWork&>(unit).session() << "INSERT INTO gc_keys (k) VALUES (:k)",
          soci::use(key);
      TestFixture::Append("acme", target)(unit);
    };
  };
  std::vector<std::function<void(UnitOfWork&)>> units = {
      keyed("k1", "a"), keyed("k2", "b"), keyed("k3", "c"), keyed("k1", "again"), keyed("k4", "d")};
  const auto errors = this->RunTogether(units);
  EXPECT_EQ(errors[0], "");
  EXPECT_EQ(errors[1], "");
  EXPECT_EQ(errors[2], "");
  EXPECT_NE(errors[3], "") << "k1 exists";
  EXPECT_EQ(errors[4], "");
  EXPECT_EQ(this->Targets("acme"), (std::multiset<std::string>{"a", "b", "c", "d"}));
}

TYPED_TEST(GroupCommitTest, StopAnswersWaitingUnitsUnavailable) {
  std::atomic<bool> release{false};
  std::thread blocker([&] {
    this->group_->Run([&](UnitOfWork&) { Eventually([&] { return release.load(); }); }, {});
  });
  ASSERT_TRUE(Eventually([&] { return this->counting_->transactions.load() == 1; }));
  auto waiting = std::async(std::launch::async, [&]() -> std::optional<ErrorCode> {
    try {
      this->group_->Run(this->Append("acme", "late"), {"acme"});
      return std::nullopt;
    } catch (const Error& e) {
      return e.code();
    }
  });
  ASSERT_TRUE(Eventually([&] { return this->group_->queued() == 1; }));
  std::thread stopper([&] { this->group_->Stop(); });
  ASSERT_TRUE(Eventually([&] { return this->group_->stopping(); }));
  release = true;
  blocker.join();
  stopper.join();
  EXPECT_EQ(waiting.get(), ErrorCode::kUnavailable);
  EXPECT_TRUE(this->Targets("acme").empty());
  EXPECT_THROW(this->group_->Run(this->Append("acme", "after"), {}), Error);
}

}  // namespace
}  // namespace paybell::db

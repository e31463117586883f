#include "db/subscription_repository.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "db/migrations.h"
#include "db/soci_database.h"
#include "server/common/error.h"
#include "tests/support/db_backends.h"

namespace paybell::db {
namespace {

using domain::Plan;
using domain::Subscription;
using domain::SubscriptionStatus;
using testing::EngineNames;
using testing::Engines;
using testing::EngineTest;

Subscription Active(const std::string& tenant) {
  Subscription r;
  r.tenant_id = tenant;
  r.stripe_customer_id = "cus_" + tenant;
  r.stripe_subscription_id = "sub_" + tenant;
  r.plan = Plan::kPro;
  r.status = SubscriptionStatus::kActive;
  r.current_period_start = 1'800'000'000;
  r.current_period_end = 1'802'592'000;
  r.last_event_created = 1'800'000'005;
  r.last_event_id = "evt_1";
  r.created_at = 1'800'000'010;
  r.updated_at = 1'800'000'010;
  return r;
}

template <typename Engine>
class SubscriptionRepositoryTest : public EngineTest<Engine> {
 protected:
  void SetUp() override {
    EngineTest<Engine>::SetUp();
    if (this->IsSkipped() || this->HasFatalFailure()) return;
    db_ = std::make_unique<SociDatabase>(this->database_->parsed(), 2);
    ApplyMigrations(db_->pool(), BuiltinMigrations(), 1'800'000'000);
  }
  std::optional<Subscription> Find(const std::string& tenant) {
    std::optional<Subscription> found;
    db_->Read("find", [&](UnitOfWork& unit) { found = unit.subscriptions().Find(tenant); });
    return found;
  }
  void Upsert(const Subscription& s) {
    db_->Transact("upsert", [&](UnitOfWork& unit) {
      unit.subscriptions().Upsert(s);
      unit.Commit();
    });
  }
  std::vector<Subscription> List(std::optional<SubscriptionStatus> status, const std::string& after,
                                 int limit) {
    std::vector<Subscription> out;
    db_->Read("list",
              [&](UnitOfWork& unit) { out = unit.subscriptions().List(status, after, limit); });
    return out;
  }
  std::unique_ptr<SociDatabase> db_;
};
TYPED_TEST_SUITE(SubscriptionRepositoryTest, Engines, EngineNames);

TYPED_TEST(SubscriptionRepositoryTest, UnknownTenantHasNoRow) {
  EXPECT_FALSE(this->Find("nobody").has_value());
}

// GetSubscription reads the tenants of concurrent calls together: every stored row comes back
// once, whatever the batch's size (past one statement's 32 tenants) or repeats.
TYPED_TEST(SubscriptionRepositoryTest, FindsManyTenantsAtOnce) {
  std::vector<std::string> wanted;
  for (int i = 0; i < 70; ++i) {
    const std::string tenant = "t" + std::to_string(i);
    if (i % 3 != 0) this->Upsert(Active(tenant));  // every third tenant never subscribed
    wanted.push_back(tenant);
  }
  wanted.push_back("t1");  // named twice
  std::vector<Subscription> found;
  this->db_->Read("find many",
                  [&](UnitOfWork& unit) { found = unit.subscriptions().FindMany(wanted); });
  std::set<std::string> tenants;
  for (const Subscription& s : found) {
    EXPECT_TRUE(tenants.insert(s.tenant_id).second) << s.tenant_id << " came twice";
    EXPECT_EQ(s.stripe_customer_id, "cus_" + s.tenant_id);
    EXPECT_EQ(s.status, SubscriptionStatus::kActive);
  }
  std::set<std::string> expected;
  for (int i = 0; i < 70; ++i) {
    if (i % 3 != 0) expected.insert("t" + std::to_string(i));
  }
  EXPECT_EQ(tenants, expected);

  // Smaller batches reuse the statement; an empty one reads nothing.
  this->db_->Read("find few", [&](UnitOfWork& unit) {
    found = unit.subscriptions().FindMany({"t2", "t3"});
  });
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].tenant_id, "t2");
  this->db_->Read("find none",
                  [&](UnitOfWork& unit) { found = unit.subscriptions().FindMany({}); });
  EXPECT_TRUE(found.empty());
}

TYPED_TEST(SubscriptionRepositoryTest, RoundTripsEveryField) {
  Subscription r = Active("t1");
  r.cancel_at_period_end = true;
  r.cancel_at = 1'802'592'000;
  r.trial_end = 1'800'100'000;
  this->Upsert(r);
  EXPECT_EQ(this->Find("t1"), r);
}

TYPED_TEST(SubscriptionRepositoryTest, UnknownTimesStayNull) {
  Subscription r = Active("t1");
  r.current_period_start.reset();
  r.current_period_end.reset();
  r.last_event_created.reset();
  this->Upsert(r);
  const auto found = this->Find("t1");
  ASSERT_TRUE(found);
  EXPECT_FALSE(found->current_period_end.has_value());
  EXPECT_FALSE(found->trial_end.has_value());
  EXPECT_FALSE(found->canceled_at.has_value());
}

TYPED_TEST(SubscriptionRepositoryTest, UpsertReplacesButKeepsCreationTime) {
  this->Upsert(Active("t1"));
  Subscription changed = Active("t1");
  changed.status = SubscriptionStatus::kCanceled;
  changed.canceled_at = 1'800'500'000;
  changed.created_at = 1'900'000'000;  // ignored on update
  changed.updated_at = 1'800'500'001;
  this->Upsert(changed);
  const auto found = this->Find("t1");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->status, SubscriptionStatus::kCanceled);
  EXPECT_EQ(found->canceled_at, 1'800'500'000);
  EXPECT_EQ(found->created_at, 1'800'000'010);
  EXPECT_EQ(found->updated_at, 1'800'500'001);
}

TYPED_TEST(SubscriptionRepositoryTest, ATransactionLockingAGroupReadsWhatItWroteLast) {
  // LockTenants of several tenants reads their rows at once (PostgreSQL); what the transaction
  // then upserts is what it reads back, with the stored creation time.
  this->Upsert(Active("t1"));
  this->db_->Transact("group", [&](UnitOfWork& unit) {
    unit.LockTenants({"t2", "t1", "t3"});
    EXPECT_EQ(unit.subscriptions().Find("t1"), Active("t1"));
    EXPECT_FALSE(unit.subscriptions().Find("t2").has_value());
    Subscription changed = Active("t1");
    changed.status = SubscriptionStatus::kPastDue;
    changed.created_at = 1'900'000'000;  // ignored on update
    unit.subscriptions().Upsert(changed);
    unit.subscriptions().Upsert(Active("t2"));
    const auto t1 = unit.subscriptions().Find("t1");
    ASSERT_TRUE(t1.has_value());
    EXPECT_EQ(t1->status, SubscriptionStatus::kPastDue);
    EXPECT_EQ(t1->created_at, 1'800'000'010);
    EXPECT_EQ(unit.subscriptions().Find("t2"), Active("t2"));
    EXPECT_FALSE(unit.subscriptions().Find("t3").has_value());
    unit.Commit();
  });
  EXPECT_EQ(this->Find("t1")->status, SubscriptionStatus::kPastDue);
  EXPECT_TRUE(this->Find("t2").has_value());
}

TYPED_TEST(SubscriptionRepositoryTest, ListsInPagesAndByStatus) {
  for (const char* t : {"t3", "t1", "t2", "t4"}) this->Upsert(Active(t));
  Subscription canceled = Active("t5");
  canceled.status = SubscriptionStatus::kCanceled;
  this->Upsert(canceled);

  const auto first = this->List(std::nullopt, "", 2);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].tenant_id, "t1");
  EXPECT_EQ(first[1].tenant_id, "t2");
  const auto rest = this->List(std::nullopt, first.back().tenant_id, 10);
  ASSERT_EQ(rest.size(), 3u);
  EXPECT_EQ(rest[0].tenant_id, "t3");

  const auto only_canceled = this->List(SubscriptionStatus::kCanceled, "", 10);
  ASSERT_EQ(only_canceled.size(), 1u);
  EXPECT_EQ(only_canceled[0].tenant_id, "t5");
}

TYPED_TEST(SubscriptionRepositoryTest, TheSchemaRefusesUnknownStatusWords) {
  // The enum keeps Paybell from writing one; the CHECK constraint keeps anyone else.
  try {
    this->db_->pool().Run("write a bad word", [](Connection& c) {
      c.session() << "INSERT INTO billing_subscriptions (tenant_id, status, created_at, "
                     "updated_at) VALUES ('t1', 'Active', 1, 1)";
    });
    FAIL() << "a status the schema does not know was stored";
  } catch (const common::Error& e) {
    EXPECT_EQ(e.code(), common::ErrorCode::kInternal);
  }
  EXPECT_FALSE(this->Find("t1").has_value());
}

TYPED_TEST(SubscriptionRepositoryTest, FindsTheTenantByStripeIds) {
  this->Upsert(Active("t1"));
  Subscription other = Active("t2");
  other.stripe_subscription_id = "";
  this->Upsert(other);
  std::optional<std::string> by_sub, by_customer, none;
  this->db_->Read("lookup", [&](UnitOfWork& unit) {
    by_sub = unit.subscriptions().FindTenantByStripeIds("sub_t1", "cus_nobody");
    by_customer = unit.subscriptions().FindTenantByStripeIds("", "cus_t2");
    none = unit.subscriptions().FindTenantByStripeIds("", "");
  });
  EXPECT_EQ(by_sub, "t1");
  EXPECT_EQ(by_customer, "t2");
  EXPECT_FALSE(none.has_value());
}

TYPED_TEST(SubscriptionRepositoryTest, PoolWaitsForAFreeSessionThenGivesUp) {
  // Both sessions held: a third unit of work waits, then fails UNAVAILABLE rather than hang.
  std::mutex mu;
  std::condition_variable cv;
  int holding = 0;
  bool release = false;
  auto hold = [&] {
    this->db_->pool().Run("hold", [&](Connection&) {
      std::unique_lock<std::mutex> lock(mu);
      ++holding;
      cv.notify_all();
      cv.wait(lock, [&] { return release; });
    });
  };
  std::thread a(hold), b(hold);
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return holding == 2; });
  }
  try {
    this->db_->pool().Run(
        "third", [](Connection&) {}, std::chrono::milliseconds(100));
    ADD_FAILURE() << "a third session appeared";
  } catch (const common::Error& e) {
    EXPECT_EQ(e.code(), common::ErrorCode::kUnavailable);
  }
  // Busy is not down: readiness stays true, so a load spike does not take every replica out
  // of the load balancer.
  EXPECT_TRUE(this->db_->Ping());
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  a.join();
  b.join();
  EXPECT_FALSE(this->Find("t1").has_value());
}

}  // namespace
}  // namespace paybell::db

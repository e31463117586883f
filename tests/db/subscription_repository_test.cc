#include "db/subscription_repository.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "server/common/error.h"
#include "db/migrations.h"
#include "tests/support/db_backends.h"

namespace paybell::db {
namespace {

using testing::EngineNames;
using testing::Engines;
using testing::EngineTest;

SubscriptionRecord Active(const std::string& tenant) {
  SubscriptionRecord r;
  r.tenant_id = tenant;
  r.stripe_customer_id = "cus_" + tenant;
  r.stripe_subscription_id = "sub_" + tenant;
  r.plan = "pro";
  r.status = "active";
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
    pool_ = std::make_unique<ConnectionPool>(this->database_->parsed(), 2);
    ApplyMigrations(*pool_, BuiltinMigrations(), 1'800'000'000);
    repo_ = std::make_unique<SociSubscriptionRepository>(*pool_);
  }
  std::unique_ptr<ConnectionPool> pool_;
  std::unique_ptr<SociSubscriptionRepository> repo_;
};
TYPED_TEST_SUITE(SubscriptionRepositoryTest, Engines, EngineNames);

TYPED_TEST(SubscriptionRepositoryTest, UnknownTenantHasNoRow) {
  EXPECT_FALSE(this->repo_->Find("nobody").has_value());
}

TYPED_TEST(SubscriptionRepositoryTest, RoundTripsEveryField) {
  SubscriptionRecord r = Active("t1");
  r.cancel_at_period_end = true;
  r.cancel_at = 1'802'592'000;
  r.trial_end = 1'800'100'000;
  this->repo_->Upsert(r);
  EXPECT_EQ(this->repo_->Find("t1"), r);
}

TYPED_TEST(SubscriptionRepositoryTest, UnknownTimesStayNull) {
  SubscriptionRecord r = Active("t1");
  r.current_period_start.reset();
  r.current_period_end.reset();
  r.last_event_created.reset();
  this->repo_->Upsert(r);
  const auto found = this->repo_->Find("t1");
  ASSERT_TRUE(found);
  EXPECT_FALSE(found->current_period_end.has_value());
  EXPECT_FALSE(found->trial_end.has_value());
  EXPECT_FALSE(found->canceled_at.has_value());
}

TYPED_TEST(SubscriptionRepositoryTest, UpsertReplacesButKeepsCreationTime) {
  this->repo_->Upsert(Active("t1"));
  SubscriptionRecord changed = Active("t1");
  changed.status = "canceled";
  changed.canceled_at = 1'800'500'000;
  changed.created_at = 1'900'000'000;  // ignored on update
  changed.updated_at = 1'800'500'001;
  this->repo_->Upsert(changed);
  const auto found = this->repo_->Find("t1");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->status, "canceled");
  EXPECT_EQ(found->canceled_at, 1'800'500'000);
  EXPECT_EQ(found->created_at, 1'800'000'010);
  EXPECT_EQ(found->updated_at, 1'800'500'001);
}

TYPED_TEST(SubscriptionRepositoryTest, ListsInPagesAndByStatus) {
  for (const char* t : {"t3", "t1", "t2", "t4"}) this->repo_->Upsert(Active(t));
  SubscriptionRecord canceled = Active("t5");
  canceled.status = "canceled";
  this->repo_->Upsert(canceled);

  const auto first = this->repo_->List("", "", 2);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].tenant_id, "t1");
  EXPECT_EQ(first[1].tenant_id, "t2");
  const auto rest = this->repo_->List("", first.back().tenant_id, 10);
  ASSERT_EQ(rest.size(), 3u);
  EXPECT_EQ(rest[0].tenant_id, "t3");

  const auto only_canceled = this->repo_->List("canceled", "", 10);
  ASSERT_EQ(only_canceled.size(), 1u);
  EXPECT_EQ(only_canceled[0].tenant_id, "t5");
}

TYPED_TEST(SubscriptionRepositoryTest, TheSchemaRefusesUnknownStatusWords) {
  SubscriptionRecord r = Active("t1");
  r.status = "Active";
  try {
    this->repo_->Upsert(r);
    FAIL() << "a status the schema does not know was stored";
  } catch (const common::Error& e) {
    EXPECT_EQ(e.code(), common::ErrorCode::kInternal);
  }
  EXPECT_FALSE(this->repo_->Find("t1").has_value());
}

TYPED_TEST(SubscriptionRepositoryTest, PoolWaitsForAFreeSessionThenGivesUp) {
  // Both sessions held: a third unit of work waits, then fails UNAVAILABLE rather than hang.
  std::mutex mu;
  std::condition_variable cv;
  int holding = 0;
  bool release = false;
  auto hold = [&] {
    this->pool_->Run("hold", [&](soci::session&) {
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
    this->pool_->Run(
        "third", [](soci::session&) {}, std::chrono::milliseconds(100));
    ADD_FAILURE() << "a third session appeared";
  } catch (const common::Error& e) {
    EXPECT_EQ(e.code(), common::ErrorCode::kUnavailable);
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  a.join();
  b.join();
  EXPECT_FALSE(this->repo_->Find("t1").has_value());
}

}  // namespace
}  // namespace paybell::db

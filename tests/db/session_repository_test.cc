#include "db/session_repository.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "db/migrations.h"
#include "db/soci_database.h"
#include "tests/support/db_backends.h"

namespace paybell::db {
namespace {

using testing::EngineNames;
using testing::Engines;
using testing::EngineTest;

constexpr int64_t kNow = 1'800'000'000;

WebSession Session(const std::string& id, const std::string& jti) {
  WebSession s;
  s.session_id = id;
  s.login_jti = jti;
  s.tenant_id = "acme";
  s.subject = "ann@example.com";
  s.role = auth::Role::kAdmin;
  s.created_at = kNow;
  s.expires_at = kNow + 12 * 3600;
  return s;
}

template <typename Engine>
class SessionRepositoryTest : public EngineTest<Engine> {
 protected:
  void SetUp() override {
    EngineTest<Engine>::SetUp();
    if (this->IsSkipped() || this->HasFatalFailure()) return;
    db_ = std::make_unique<SociDatabase>(this->database_->parsed(), 4);
    ApplyMigrations(db_->pool(), BuiltinMigrations(), kNow);
  }
  bool Insert(const WebSession& s) {
    bool inserted = false;
    db_->Transact("insert", [&](UnitOfWork& unit) {
      inserted = unit.sessions().Insert(s);
      unit.Commit();
    });
    return inserted;
  }
  std::optional<WebSession> Find(const std::string& id) {
    std::optional<WebSession> found;
    db_->Read("find", [&](UnitOfWork& unit) { found = unit.sessions().Find(id); });
    return found;
  }
  bool End(const std::string& id, int64_t now) {
    bool ended = false;
    db_->Transact("end", [&](UnitOfWork& unit) {
      ended = unit.sessions().End(id, now);
      unit.Commit();
    });
    return ended;
  }
  int64_t Purge(int64_t before) {
    int64_t purged = 0;
    db_->Transact("purge", [&](UnitOfWork& unit) {
      purged = unit.sessions().PurgeExpired(before);
      unit.Commit();
    });
    return purged;
  }
  std::unique_ptr<SociDatabase> db_;
};
TYPED_TEST_SUITE(SessionRepositoryTest, Engines, EngineNames);

TYPED_TEST(SessionRepositoryTest, InsertedSessionIsFoundWithEveryField) {
  ASSERT_TRUE(this->Insert(Session("s1", "jti-1")));
  const auto found = this->Find("s1");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->session_id, "s1");
  EXPECT_EQ(found->login_jti, "jti-1");
  EXPECT_EQ(found->tenant_id, "acme");
  EXPECT_EQ(found->subject, "ann@example.com");
  EXPECT_EQ(found->role, auth::Role::kAdmin);
  EXPECT_EQ(found->created_at, kNow);
  EXPECT_EQ(found->expires_at, kNow + 12 * 3600);
  EXPECT_FALSE(found->ended_at.has_value());
  EXPECT_FALSE(this->Find("nope").has_value());
}

TYPED_TEST(SessionRepositoryTest, ASignInLinkStartsOneSessionOnly) {
  ASSERT_TRUE(this->Insert(Session("s1", "jti-1")));
  WebSession again = Session("s2", "jti-1");
  again.subject = "eve@example.com";
  EXPECT_FALSE(this->Insert(again));
  EXPECT_FALSE(this->Find("s2").has_value());
  EXPECT_EQ(this->Find("s1")->subject, "ann@example.com");
  EXPECT_TRUE(this->Insert(Session("s3", "jti-2")));
}

// Two browsers opening the same link at the same moment: exactly one gets a session.
TYPED_TEST(SessionRepositoryTest, ConcurrentUsesOfOneLinkYieldOneSession) {
  constexpr int kRounds = 10;
  for (int round = 0; round < kRounds; ++round) {
    const std::string jti = "race-" + std::to_string(round);
    std::atomic<int> started{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int i = 0; i < 3; ++i) {
      threads.emplace_back([&, i] {
        while (!go.load()) std::this_thread::yield();
        if (this->Insert(Session(jti + "-s" + std::to_string(i), jti))) ++started;
      });
    }
    go = true;
    for (auto& t : threads) t.join();
    EXPECT_EQ(started.load(), 1) << jti;
  }
}

TYPED_TEST(SessionRepositoryTest, EndingTwiceEndsOnce) {
  ASSERT_TRUE(this->Insert(Session("s1", "jti-1")));
  EXPECT_TRUE(this->End("s1", kNow + 60));
  EXPECT_FALSE(this->End("s1", kNow + 120));
  EXPECT_EQ(this->Find("s1")->ended_at, kNow + 60);
  EXPECT_FALSE(this->End("unknown", kNow));
}

TYPED_TEST(SessionRepositoryTest, PurgeDeletesOnlySessionsExpiredBeforeTheCutoff) {
  WebSession old = Session("old", "jti-old");
  old.expires_at = kNow - 7200;
  WebSession edge = Session("edge", "jti-edge");
  edge.expires_at = kNow - 3600;
  ASSERT_TRUE(this->Insert(old));
  ASSERT_TRUE(this->Insert(edge));
  ASSERT_TRUE(this->Insert(Session("live", "jti-live")));
  EXPECT_EQ(this->Purge(kNow - 3600), 1);
  EXPECT_FALSE(this->Find("old").has_value());
  EXPECT_TRUE(this->Find("edge").has_value());
  EXPECT_TRUE(this->Find("live").has_value());
  EXPECT_EQ(this->Purge(kNow - 3600), 0);
}

TYPED_TEST(SessionRepositoryTest, OnlyTenantRolesHaveSessions) {
  WebSession service = Session("s1", "jti-1");
  service.role = auth::Role::kService;
  EXPECT_ANY_THROW(this->Insert(service));
  EXPECT_FALSE(this->Find("s1").has_value());
}

}  // namespace
}  // namespace paybell::db

// Notification storage on both engines: settings, the log and its dedupe, the debounce windows
// and the outbox claims, including the concurrent cases replicas on one PostgreSQL rely on.
#include "db/notification_repository.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "db/migrations.h"
#include "db/soci_database.h"
#include "server/common/error.h"
#include "tests/support/db_backends.h"

namespace paybell::db {
namespace {

using domain::Channel;
using domain::Decision;
using domain::DeliveryStatus;
using domain::LogKind;
using domain::Trigger;
using ::testing::ElementsAre;
using testing::EngineNames;
using testing::Engines;
using testing::EngineTest;

constexpr int64_t kNow = 1'800'000'000;
constexpr int64_t kWindow = 900;

NotificationLogRow Queued(const std::string& tenant, Trigger trigger, Channel channel,
                          int64_t created_at) {
  NotificationLogRow r;
  r.tenant_id = tenant;
  r.trigger = trigger;
  r.channel = channel;
  r.payload = R"({"model":"model-a","psi":0.31})";
  r.summary = "PSI 0.31 on model-a (invoices)";
  r.next_attempt_at = created_at;
  r.created_at = created_at;
  return r;
}

NotificationLogRow Suppressed(const std::string& tenant, Trigger trigger, Channel channel,
                              int64_t created_at) {
  NotificationLogRow r = Queued(tenant, trigger, channel, created_at);
  r.decision = Decision::kSuppressed;
  r.status = DeliveryStatus::kSuppressed;
  r.next_attempt_at.reset();
  return r;
}

template <typename Engine>
class NotificationRepositoryTest : public EngineTest<Engine> {
 protected:
  void SetUp() override {
    EngineTest<Engine>::SetUp();
    if (this->IsSkipped() || this->HasFatalFailure()) return;
    db_ = std::make_unique<SociDatabase>(this->database_->parsed(), 2);
    ApplyMigrations(db_->pool(), BuiltinMigrations(), kNow);
  }

  static bool IsPostgres() { return std::string(Engine::kName) == "PostgreSQL"; }

  // One committed transaction.
  template <typename F>
  auto Write(F&& f) {
    return Write(*db_, std::forward<F>(f));
  }
  template <typename F>
  static auto Write(Database& db, F&& f) {
    using Result = decltype(f(std::declval<NotificationRepository&>()));
    if constexpr (std::is_void_v<Result>) {
      db.Transact("test write", [&](UnitOfWork& unit) {
        f(unit.notifications());
        unit.Commit();
      });
    } else {
      std::optional<Result> result;
      db.Transact("test write", [&](UnitOfWork& unit) {
        result = f(unit.notifications());
        unit.Commit();
      });
      return std::move(*result);
    }
  }
  template <typename F>
  auto Read(F&& f) {
    std::optional<decltype(f(std::declval<NotificationRepository&>()))> result;
    db_->Read("test read", [&](UnitOfWork& unit) { result = f(unit.notifications()); });
    return std::move(*result);
  }

  DebounceOutcome Debounce(int64_t now, const DebounceKey& key = kKey) {
    return Write([&](NotificationRepository& r) { return r.Debounce(key, now, kWindow); });
  }
  std::optional<int64_t> Append(const NotificationLogRow& row) {
    return Write([&](NotificationRepository& r) { return r.Append(row); });
  }
  std::vector<NotificationLogRow> Claim(const std::string& claimer, int64_t now, int limit = 10,
                                        int64_t lease_s = 60) {
    return Write(
        [&](NotificationRepository& r) { return r.ClaimDue(claimer, now, lease_s, limit); });
  }
  NotificationLogRow Get(int64_t id) {
    return *Read([&](NotificationRepository& r) { return r.Find(id); });
  }
  std::vector<int64_t> ListIds(const NotificationLogFilter& filter) {
    std::vector<int64_t> ids;
    for (const auto& row : Read([&](NotificationRepository& r) { return r.List(filter); })) {
      ids.push_back(row.id);
    }
    return ids;
  }

  inline static const DebounceKey kKey{"acme", Trigger::kPsiDrift, Channel::kEmail};
  std::unique_ptr<SociDatabase> db_;
};
TYPED_TEST_SUITE(NotificationRepositoryTest, Engines, EngineNames);

// --- settings ---

TYPED_TEST(NotificationRepositoryTest, SettingsRoundTripAndATenantWithoutARowHasNone) {
  EXPECT_FALSE(this->Read([](NotificationRepository& r) { return r.FindSettings("acme"); }));

  domain::NotificationSettings s;
  s.tenant_id = "acme";
  s.email_enabled = false;
  s.email_recipients = {"ann@acme.test", "bob@acme.test"};
  s.slack_enabled = true;
  s.slack_webhook_url = "https://hooks.slack.com/services/T1/B2/secret";
  s.psi_threshold = 0.35;
  s.disabled_triggers = {Trigger::kExportCompleted, Trigger::kTrialEnding};
  s.updated_at = kNow;
  this->Write([&](NotificationRepository& r) { r.SaveSettings(s, "ann@acme.test"); });

  const auto found = this->Read([](NotificationRepository& r) { return r.FindSettings("acme"); });
  ASSERT_TRUE(found);
  EXPECT_EQ(found->tenant_id, "acme");
  EXPECT_FALSE(found->email_enabled);
  EXPECT_THAT(found->email_recipients, ElementsAre("ann@acme.test", "bob@acme.test"));
  EXPECT_TRUE(found->slack_enabled);
  EXPECT_EQ(found->slack_webhook_url, s.slack_webhook_url);
  EXPECT_FALSE(found->slack_broken);
  EXPECT_DOUBLE_EQ(found->psi_threshold, 0.35);
  EXPECT_EQ(found->disabled_triggers, s.disabled_triggers);
  EXPECT_EQ(found->updated_at, kNow);

  // Stored as words, so operators can read them in psql and sqlite3.
  std::string disabled;
  this->db_->pool().Run("t", [&](Connection& c) {
    c.session() << "SELECT disabled_triggers FROM tenant_notifications", soci::into(disabled);
  });
  EXPECT_EQ(disabled, R"(["export_completed","trial_ending"])");

  // A second save replaces the whole row.
  s.email_recipients = {"carol@acme.test"};
  s.disabled_triggers.clear();
  s.updated_at = kNow + 5;
  this->Write([&](NotificationRepository& r) { r.SaveSettings(s, "carol@acme.test"); });
  const auto again = this->Read([](NotificationRepository& r) { return r.FindSettings("acme"); });
  EXPECT_THAT(again->email_recipients, ElementsAre("carol@acme.test"));
  EXPECT_TRUE(again->disabled_triggers.empty());
  EXPECT_EQ(again->updated_at, kNow + 5);
}

TYPED_TEST(NotificationRepositoryTest, SlackIsFlaggedBrokenOnlyWhileTheUrlIsTheSame) {
  this->Write([](NotificationRepository& r) { r.MarkSlackBroken("nobody", "https://x"); });
  EXPECT_FALSE(this->Read([](NotificationRepository& r) { return r.FindSettings("nobody"); }));

  domain::NotificationSettings s;
  s.tenant_id = "acme";
  s.slack_enabled = true;
  s.slack_webhook_url = "https://hooks.slack.com/services/T1/B2/new";
  s.updated_at = kNow;
  this->Write([&](NotificationRepository& r) { r.SaveSettings(s, "ann"); });

  // The dispatcher sent to the old URL; the tenant replaced it meanwhile.
  this->Write([](NotificationRepository& r) {
    r.MarkSlackBroken("acme", "https://hooks.slack.com/services/T1/B2/old");
  });
  auto found = this->Read([](NotificationRepository& r) { return r.FindSettings("acme"); });
  EXPECT_FALSE(found->slack_broken);

  this->Write([&](NotificationRepository& r) { r.MarkSlackBroken("acme", s.slack_webhook_url); });
  found = this->Read([](NotificationRepository& r) { return r.FindSettings("acme"); });
  EXPECT_TRUE(found->slack_broken);

  // Saving writes the flag as given (the service clears it when the URL changes).
  s.slack_webhook_url = "https://hooks.slack.com/services/T1/B2/newer";
  this->Write([&](NotificationRepository& r) { r.SaveSettings(s, "ann"); });
  found = this->Read([](NotificationRepository& r) { return r.FindSettings("acme"); });
  EXPECT_FALSE(found->slack_broken);
}

// --- the log ---

TYPED_TEST(NotificationRepositoryTest, AppendRoundTripsEveryFieldAndTestsHaveNoTrigger) {
  NotificationLogRow row = Queued("acme", Trigger::kPaymentFailed, Channel::kSlack, kNow);
  row.kind = LogKind::kTrigger;
  row.attempts = 2;
  row.last_error = "HTTP 500";
  row.dedupe_key = "payment_failed:evt_1:slack";
  row.sent_at = kNow + 9;
  const auto id = this->Append(row);
  ASSERT_TRUE(id);
  const NotificationLogRow got = this->Get(*id);
  EXPECT_EQ(got.id, *id);
  EXPECT_EQ(got.tenant_id, "acme");
  EXPECT_EQ(got.kind, LogKind::kTrigger);
  EXPECT_EQ(got.trigger, Trigger::kPaymentFailed);
  EXPECT_EQ(got.channel, Channel::kSlack);
  EXPECT_EQ(got.decision, Decision::kQueued);
  EXPECT_EQ(got.status, DeliveryStatus::kQueued);
  EXPECT_EQ(got.attempts, 2);
  EXPECT_EQ(got.next_attempt_at, kNow);
  EXPECT_EQ(got.last_error, "HTTP 500");
  EXPECT_EQ(got.payload, row.payload);
  EXPECT_EQ(got.dedupe_key, row.dedupe_key);
  EXPECT_EQ(got.summary, row.summary);
  EXPECT_EQ(got.created_at, kNow);
  EXPECT_EQ(got.sent_at, kNow + 9);

  NotificationLogRow test = Queued("acme", Trigger::kPsiDrift, Channel::kEmail, kNow);
  test.kind = LogKind::kTest;
  test.trigger.reset();
  test.next_attempt_at.reset();
  const NotificationLogRow got_test = this->Get(*this->Append(test));
  EXPECT_EQ(got_test.kind, LogKind::kTest);
  EXPECT_FALSE(got_test.trigger);
  EXPECT_FALSE(got_test.dedupe_key);
  EXPECT_FALSE(got_test.next_attempt_at);
  EXPECT_FALSE(got_test.sent_at);

  NotificationLogRow digest = Queued("acme", Trigger::kPsiDrift, Channel::kEmail, kNow);
  digest.kind = LogKind::kDigest;
  EXPECT_EQ(this->Get(*this->Append(digest)).kind, LogKind::kDigest);
  EXPECT_FALSE(this->Read([](NotificationRepository& r) { return r.Find(999'999); }));
}

TYPED_TEST(NotificationRepositoryTest, ADedupeKeyIsLoggedOnce) {
  NotificationLogRow row = Queued("acme", Trigger::kPaymentFailed, Channel::kEmail, kNow);
  row.dedupe_key = "payment_failed:evt_1:email";
  EXPECT_FALSE(this->Read(
      [&](NotificationRepository& r) { return r.HasDedupeKey("payment_failed:evt_1:email"); }));
  const auto first = this->Append(row);
  ASSERT_TRUE(first);
  EXPECT_TRUE(this->Read(
      [&](NotificationRepository& r) { return r.HasDedupeKey("payment_failed:evt_1:email"); }));
  EXPECT_FALSE(this->Append(row));  // a replay of the event
  row.dedupe_key = "payment_failed:evt_1:slack";
  EXPECT_TRUE(this->Append(row));
  row.dedupe_key.reset();  // rows without a key never collide
  EXPECT_TRUE(this->Append(row));
  EXPECT_TRUE(this->Append(row));
  NotificationLogFilter all;
  EXPECT_EQ(this->ListIds(all).size(), 4u);
}

TYPED_TEST(NotificationRepositoryTest, ListIsNewestFirstFilteredAndPaged) {
  std::vector<int64_t> ids;
  auto add = [&](const std::string& tenant, Trigger t, Channel c, int64_t at) {
    ids.push_back(*this->Append(Queued(tenant, t, c, at)));
    return ids.back();
  };
  const int64_t a1 = add("acme", Trigger::kPsiDrift, Channel::kEmail, kNow);
  const int64_t a2 = add("acme", Trigger::kPsiDrift, Channel::kSlack, kNow + 10);
  const int64_t b1 = add("beta", Trigger::kPsiDrift, Channel::kEmail, kNow + 20);
  const int64_t a3 = add("acme", Trigger::kExportCompleted, Channel::kEmail, kNow + 30);
  const int64_t a4 =
      *this->Append(Suppressed("acme", Trigger::kPsiDrift, Channel::kEmail, kNow + 40));

  NotificationLogFilter f;
  EXPECT_THAT(this->ListIds(f), ElementsAre(a4, a3, b1, a2, a1));
  f.tenant_id = "acme";
  EXPECT_THAT(this->ListIds(f), ElementsAre(a4, a3, a2, a1));
  f.trigger = Trigger::kPsiDrift;
  EXPECT_THAT(this->ListIds(f), ElementsAre(a4, a2, a1));
  f.channel = Channel::kEmail;
  EXPECT_THAT(this->ListIds(f), ElementsAre(a4, a1));
  f.status = DeliveryStatus::kQueued;
  EXPECT_THAT(this->ListIds(f), ElementsAre(a1));

  NotificationLogFilter window;
  window.since = kNow + 10;
  window.until = kNow + 30;  // exclusive
  EXPECT_THAT(this->ListIds(window), ElementsAre(b1, a2));

  NotificationLogFilter page;
  page.tenant_id = "acme";
  page.limit = 2;
  EXPECT_THAT(this->ListIds(page), ElementsAre(a4, a3));
  page.before_id = a3;
  EXPECT_THAT(this->ListIds(page), ElementsAre(a2, a1));
  page.before_id = a1;
  EXPECT_TRUE(this->ListIds(page).empty());
}

TYPED_TEST(NotificationRepositoryTest, ListSuppressedIsOneKeysSuppressedRowsInAWindow) {
  const DebounceKey key = this->kKey;
  this->Append(Queued("acme", Trigger::kPsiDrift, Channel::kEmail, kNow));
  const int64_t s1 = *this->Append(Suppressed("acme", Trigger::kPsiDrift, Channel::kEmail, kNow));
  const int64_t s2 =
      *this->Append(Suppressed("acme", Trigger::kPsiDrift, Channel::kEmail, kNow + 100));
  this->Append(Suppressed("acme", Trigger::kPsiDrift, Channel::kSlack, kNow + 100));
  this->Append(Suppressed("beta", Trigger::kPsiDrift, Channel::kEmail, kNow + 100));
  this->Append(Suppressed("acme", Trigger::kExportCompleted, Channel::kEmail, kNow + 100));
  this->Append(Suppressed("acme", Trigger::kPsiDrift, Channel::kEmail, kNow + kWindow));

  auto list = [&](int64_t from, int64_t to, int limit) {
    std::vector<int64_t> ids;
    for (const auto& row : this->Read(
             [&](NotificationRepository& r) { return r.ListSuppressed(key, from, to, limit); })) {
      ids.push_back(row.id);
    }
    return ids;
  };
  EXPECT_THAT(list(kNow, kNow + kWindow, 20), ElementsAre(s1, s2));
  EXPECT_THAT(list(kNow, kNow + kWindow, 1), ElementsAre(s1));
}

// --- debounce ---

TYPED_TEST(NotificationRepositoryTest, DebounceOpensAWindowAtExactlyItsEnd) {
  EXPECT_TRUE(this->Debounce(kNow).fire);  // no row yet
  EXPECT_FALSE(this->Debounce(kNow).fire);
  EXPECT_FALSE(this->Debounce(kNow + kWindow - 1).fire);  // one second before the window ends
  const DebounceOutcome next = this->Debounce(kNow + kWindow);
  EXPECT_TRUE(next.fire);
  ASSERT_TRUE(next.closed);
  EXPECT_EQ(next.closed->key.tenant_id, "acme");
  EXPECT_EQ(next.closed->key.trigger, Trigger::kPsiDrift);
  EXPECT_EQ(next.closed->key.channel, Channel::kEmail);
  EXPECT_EQ(next.closed->window_started_at, kNow);
  EXPECT_EQ(next.closed->suppressed_count, 2);

  // A window that suppressed nothing closes without a digest.
  const DebounceOutcome quiet = this->Debounce(kNow + 3 * kWindow);
  EXPECT_TRUE(quiet.fire);
  EXPECT_FALSE(quiet.closed);

  // Keys are independent.
  EXPECT_TRUE(
      this->Debounce(kNow + 3 * kWindow, {"acme", Trigger::kPsiDrift, Channel::kSlack}).fire);
  EXPECT_TRUE(
      this->Debounce(kNow + 3 * kWindow, {"beta", Trigger::kPsiDrift, Channel::kEmail}).fire);
  EXPECT_TRUE(
      this->Debounce(kNow + 3 * kWindow, {"acme", Trigger::kTrialEnding, Channel::kEmail}).fire);
}

TYPED_TEST(NotificationRepositoryTest, AClosedWindowIsTakenOnceWithItsCount) {
  const DebounceKey slack{"acme", Trigger::kPsiDrift, Channel::kSlack};
  this->Debounce(kNow);
  this->Debounce(kNow + 1);
  this->Debounce(kNow + 2);
  this->Debounce(kNow + 10, slack);
  this->Debounce(kNow + 11, slack);
  this->Debounce(kNow + 100, {"quiet", Trigger::kPsiDrift, Channel::kEmail});  // nothing to digest

  auto take = [&](int64_t now, int limit) {
    return this->Write(
        [&](NotificationRepository& r) { return r.TakeClosedWindows(now, kWindow, limit); });
  };
  EXPECT_TRUE(take(kNow + kWindow - 1, 10).empty());  // still open
  const auto first = take(kNow + kWindow + 10, 1);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].key.channel, Channel::kEmail);  // the oldest window first
  EXPECT_EQ(first[0].window_started_at, kNow);
  EXPECT_EQ(first[0].suppressed_count, 2);
  const auto second = take(kNow + kWindow + 10, 10);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].key.channel, Channel::kSlack);
  EXPECT_EQ(second[0].window_started_at, kNow + 10);
  EXPECT_EQ(second[0].suppressed_count, 1);
  EXPECT_TRUE(take(kNow + 10 * kWindow, 10).empty());

  // The taken window is not reported again when the next event opens a new one.
  const DebounceOutcome next = this->Debounce(kNow + 2 * kWindow);
  EXPECT_TRUE(next.fire);
  EXPECT_FALSE(next.closed);
}

TYPED_TEST(NotificationRepositoryTest, AWindowClosedByTheNextEventIsNotTakenAgain) {
  this->Debounce(kNow);
  this->Debounce(kNow + 1);
  EXPECT_TRUE(this->Debounce(kNow + kWindow).closed);
  EXPECT_TRUE(this->Write([&](NotificationRepository& r) {
                    return r.TakeClosedWindows(kNow + 5 * kWindow, kWindow, 10);
                  })
                  .empty());
}

// The issue's first concurrency case at the repository level: 200 callers for one key, each
// in its own transaction on its own pooled connection, across two pools (two replicas).
TYPED_TEST(NotificationRepositoryTest, TwoHundredConcurrentCallsFireOnce) {
  constexpr int kThreads = 16;
  constexpr int kCalls = 200;
  SociDatabase first(this->database_->parsed(), kThreads / 2);
  SociDatabase second(this->database_->parsed(), kThreads / 2);
  std::atomic<int> next{0}, fired{0}, suppressed{0}, in_flight{0}, max_in_flight{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Database& db = t % 2 == 0 ? static_cast<Database&>(first) : second;
      while (!go.load()) std::this_thread::yield();
      while (next.fetch_add(1) < kCalls) {
        try {
          db.Transact("debounce", [&](UnitOfWork& unit) {
            const int now_in = ++in_flight;
            int seen = max_in_flight.load();
            while (now_in > seen && !max_in_flight.compare_exchange_weak(seen, now_in)) {
            }
            DebounceOutcome outcome;
            try {
              outcome = unit.notifications().Debounce(this->kKey, kNow, kWindow);
            } catch (...) {
              --in_flight;
              throw;
            }
            --in_flight;
            unit.Commit();
            (outcome.fire ? fired : suppressed)++;
          });
        } catch (const common::Error& e) {
          ADD_FAILURE() << e.what();
        }
      }
    });
  }
  go = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(fired.load(), 1);
  EXPECT_EQ(suppressed.load(), kCalls - 1);
  // PostgreSQL really ran them side by side (SQLite's BEGIN IMMEDIATE serialises them).
  if (this->IsPostgres()) {
    EXPECT_GT(max_in_flight.load(), 1);
  }
  // The window counted every suppressed call.
  const auto closed = this->Debounce(kNow + kWindow).closed;
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->suppressed_count, kCalls - 1);
}

// --- claims ---

TYPED_TEST(NotificationRepositoryTest, ClaimDueTakesDueRowsAndLeasesThem) {
  const int64_t due = *this->Append(Queued("acme", Trigger::kPsiDrift, Channel::kEmail, kNow));
  NotificationLogRow later = Queued("acme", Trigger::kPsiDrift, Channel::kSlack, kNow);
  later.next_attempt_at = kNow + 30;
  const int64_t not_yet = *this->Append(later);
  NotificationLogRow no_time = Queued("acme", Trigger::kPsiDrift, Channel::kSlack, kNow);
  no_time.next_attempt_at.reset();  // queued without a time: due at once
  const int64_t at_once = *this->Append(no_time);
  this->Append(Suppressed("acme", Trigger::kPsiDrift, Channel::kEmail, kNow));  // never sent

  const auto claimed = this->Claim("worker-a", kNow, 10, 60);
  ASSERT_EQ(claimed.size(), 2u);
  EXPECT_EQ(claimed[0].id, due);
  EXPECT_EQ(claimed[1].id, at_once);
  EXPECT_EQ(claimed[0].status, DeliveryStatus::kSending);
  EXPECT_EQ(claimed[0].attempts, 1);
  EXPECT_EQ(claimed[0].payload, R"({"model":"model-a","psi":0.31})");
  EXPECT_EQ(claimed[0].trigger, Trigger::kPsiDrift);

  // Leased: nobody else gets them before the lease ends, and the later row waits its turn.
  EXPECT_TRUE(this->Claim("worker-b", kNow + 29).empty());
  const auto turn = this->Claim("worker-b", kNow + 30);
  ASSERT_EQ(turn.size(), 1u);
  EXPECT_EQ(turn[0].id, not_yet);

  // The limit holds.
  for (int i = 0; i < 5; ++i) {
    this->Append(Queued("beta", Trigger::kPsiDrift, Channel::kEmail, kNow));
  }
  EXPECT_EQ(this->Claim("worker-c", kNow, 3).size(), 3u);
  EXPECT_EQ(this->Claim("worker-c", kNow, 3).size(), 2u);
}

TYPED_TEST(NotificationRepositoryTest, AnExpiredLeaseIsReclaimedAndTheStaleClaimerLosesIt) {
  const int64_t id = *this->Append(Queued("acme", Trigger::kPsiDrift, Channel::kEmail, kNow));
  ASSERT_EQ(this->Claim("dead-worker", kNow, 10, 60).size(), 1u);
  EXPECT_TRUE(this->Claim("worker-b", kNow + 59).empty());    // lease holds
  const auto reclaimed = this->Claim("worker-b", kNow + 60);  // claimed_until <= now
  ASSERT_EQ(reclaimed.size(), 1u);
  EXPECT_EQ(reclaimed[0].id, id);
  EXPECT_EQ(reclaimed[0].attempts, 2);

  // The first claimer comes back late: its result is not recorded.
  EXPECT_FALSE(this->Write(
      [&](NotificationRepository& r) { return r.MarkSent(id, "dead-worker", kNow + 61); }));
  EXPECT_FALSE(this->Write(
      [&](NotificationRepository& r) { return r.MarkRetry(id, "dead-worker", "x", kNow + 90); }));
  EXPECT_FALSE(
      this->Write([&](NotificationRepository& r) { return r.MarkDead(id, "dead-worker", "x"); }));
  EXPECT_EQ(this->Get(id).status, DeliveryStatus::kSending);

  EXPECT_TRUE(this->Write(
      [&](NotificationRepository& r) { return r.MarkSent(id, "worker-b", kNow + 62); }));
  const NotificationLogRow sent = this->Get(id);
  EXPECT_EQ(sent.status, DeliveryStatus::kSent);
  EXPECT_EQ(sent.sent_at, kNow + 62);
  // Once recorded, neither claimer can change it, and it is never claimed again.
  EXPECT_FALSE(
      this->Write([&](NotificationRepository& r) { return r.MarkDead(id, "worker-b", "late"); }));
  EXPECT_TRUE(this->Claim("worker-c", kNow + 10'000).empty());
}

TYPED_TEST(NotificationRepositoryTest, ARetryIsDueAtItsTimeAndDeadIsFinal) {
  const int64_t id = *this->Append(Queued("acme", Trigger::kPsiDrift, Channel::kSlack, kNow));
  this->Claim("w", kNow);
  EXPECT_TRUE(this->Write(
      [&](NotificationRepository& r) { return r.MarkRetry(id, "w", "HTTP 503", kNow + 40); }));
  NotificationLogRow row = this->Get(id);
  EXPECT_EQ(row.status, DeliveryStatus::kFailed);
  EXPECT_EQ(row.last_error, "HTTP 503");
  EXPECT_EQ(row.next_attempt_at, kNow + 40);

  EXPECT_TRUE(this->Claim("w", kNow + 39).empty());
  const auto again = this->Claim("w", kNow + 40);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].attempts, 2);
  EXPECT_TRUE(
      this->Write([&](NotificationRepository& r) { return r.MarkDead(id, "w", "HTTP 404"); }));
  row = this->Get(id);
  EXPECT_EQ(row.status, DeliveryStatus::kDead);
  EXPECT_EQ(row.last_error, "HTTP 404");
  EXPECT_TRUE(this->Claim("w", kNow + 100'000).empty());
}

// The issue's second concurrency case at the repository level: two dispatchers (two pools,
// several threads each) drain 500 queued rows; every row is claimed exactly once.
TYPED_TEST(NotificationRepositoryTest, TwoClaimersTakeEachOf500RowsOnce) {
  constexpr int kRows = 500;
  this->Write([&](NotificationRepository& r) {
    for (int i = 0; i < kRows; ++i) {
      r.Append(Queued("t" + std::to_string(i % 7), Trigger::kPsiDrift, Channel::kEmail, kNow));
    }
  });
  constexpr int kThreadsPerClaimer = 4;
  SociDatabase first(this->database_->parsed(), kThreadsPerClaimer);
  SociDatabase second(this->database_->parsed(), kThreadsPerClaimer);
  std::mutex mu;
  std::map<int64_t, int> claims;
  std::atomic<int> not_recorded{0}, in_flight{0}, max_in_flight{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2 * kThreadsPerClaimer; ++t) {
    threads.emplace_back([&, t] {
      Database& db = t % 2 == 0 ? static_cast<Database&>(first) : second;
      const std::string claimer = (t % 2 == 0 ? "replica-a/" : "replica-b/") + std::to_string(t);
      while (!go.load()) std::this_thread::yield();
      for (;;) {
        std::vector<NotificationLogRow> got;
        try {
          db.Transact("claim", [&](UnitOfWork& unit) {
            const int now_in = ++in_flight;
            int seen = max_in_flight.load();
            while (now_in > seen && !max_in_flight.compare_exchange_weak(seen, now_in)) {
            }
            try {
              got = unit.notifications().ClaimDue(claimer, kNow, 3600, 7);
            } catch (...) {
              --in_flight;
              throw;
            }
            --in_flight;
            unit.Commit();
          });
          if (got.empty()) return;
          db.Transact("sent", [&](UnitOfWork& unit) {
            for (const auto& row : got) {
              if (!unit.notifications().MarkSent(row.id, claimer, kNow + 1)) ++not_recorded;
            }
            unit.Commit();
          });
        } catch (const common::Error& e) {
          ADD_FAILURE() << e.what();
          return;
        }
        std::lock_guard<std::mutex> lock(mu);
        for (const auto& row : got) ++claims[row.id];
      }
    });
  }
  go = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(claims.size(), static_cast<size_t>(kRows));
  for (const auto& [id, count] : claims) EXPECT_EQ(count, 1) << "row " << id;
  EXPECT_EQ(not_recorded.load(), 0);
  if (this->IsPostgres()) {
    EXPECT_GT(max_in_flight.load(), 1);
  }
  NotificationLogFilter sent;
  sent.status = DeliveryStatus::kSent;
  sent.limit = kRows + 1;
  EXPECT_EQ(this->ListIds(sent).size(), static_cast<size_t>(kRows));
}

}  // namespace
}  // namespace paybell::db

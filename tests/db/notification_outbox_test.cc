// The notification outbox end to end below gRPC, on both databases: Emit's decisions and the
// debounce under concurrency, digests, once-per-event billing triggers, and the dispatcher's
// claims, retries and permanent failures against recording transports.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "db/migrations.h"
#include "db/soci_database.h"
#include "server/notifications/dispatcher.h"
#include "server/notifications/emitter.h"
#include "tests/support/db_backends.h"

namespace paybell::notifications {
namespace {

using domain::Channel;
using domain::Decision;
using domain::DeliveryStatus;
using testing::EngineNames;
using testing::Engines;
using testing::EngineTest;
using ::testing::HasSubstr;

constexpr int64_t kNow = 1'800'000'000;
constexpr int64_t kWindow = 900;

// Records what it is asked to send and answers from a script (default: sent). `during_send`,
// when set, runs inside each send (before it answers), for tests of what happens meanwhile.
class RecordingTransport final : public EmailTransport, public SlackTransport {
 public:
  DeliveryResult Send(const EmailMessage& message) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      emails_.push_back(message);
    }
    return During();
  }
  DeliveryResult Post(const std::string& url, const std::string& json) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      slack_.emplace_back(url, json);
    }
    return During();
  }
  std::function<DeliveryResult(int call)> during_send;
  void Answer(DeliveryResult result) {
    std::lock_guard<std::mutex> lock(mu_);
    answer_ = std::move(result);
  }
  std::vector<EmailMessage> emails() {
    std::lock_guard<std::mutex> lock(mu_);
    return emails_;
  }
  std::vector<std::pair<std::string, std::string>> slack() {
    std::lock_guard<std::mutex> lock(mu_);
    return slack_;
  }

 private:
  DeliveryResult Next() { return answer_; }
  DeliveryResult During() {
    int call = 0;
    std::function<DeliveryResult(int)> hook;
    {
      std::lock_guard<std::mutex> lock(mu_);
      call = ++calls_;
      hook = during_send;
      if (!hook) return Next();
    }
    return hook(call);
  }
  std::mutex mu_;
  int calls_ = 0;
  DeliveryResult answer_;
  std::vector<EmailMessage> emails_;
  std::vector<std::pair<std::string, std::string>> slack_;
};

domain::PsiDrift Psi(const std::string& model, double psi) {
  domain::PsiDrift drift;
  drift.model = model;
  drift.feature_set = "invoices";
  drift.psi = psi;
  return drift;
}

template <typename Engine>
class NotificationOutboxTest : public EngineTest<Engine> {
 protected:
  void SetUp() override {
    EngineTest<Engine>::SetUp();
    if (this->IsSkipped() || this->HasFatalFailure()) return;
    config_.app_url = "https://app.example.com";
    config_.debounce_s = kWindow;
    db_ = std::make_unique<db::SociDatabase>(this->database_->parsed(), 8);
    db::ApplyMigrations(db_->pool(), db::BuiltinMigrations(), kNow);
    emitter_ = std::make_unique<Emitter>(config_, /*email_available=*/true);
  }

  void Configure(const std::string& tenant, bool email, bool slack) {
    domain::NotificationSettings settings;
    settings.tenant_id = tenant;
    settings.email_enabled = email;
    settings.email_recipients = {"ops@" + tenant + ".test"};
    settings.slack_enabled = slack;
    settings.slack_webhook_url = "https://hooks.slack.com/services/T1/B1/secret";
    settings.updated_at = kNow;
    db_->Transact("t", [&](db::UnitOfWork& unit) {
      unit.notifications().SaveSettings(settings, "test");
      unit.Commit();
    });
  }

  std::vector<ChannelOutcome> Emit(const std::string& tenant, const domain::TriggerEvent& event,
                                   const std::string& source = "") {
    std::vector<ChannelOutcome> outcomes;
    db_->Transact("emit", [&](db::UnitOfWork& unit) {
      unit.LockTenant(tenant);
      outcomes = emitter_->Emit(unit, tenant, event, clock_.NowUnix(), source);
      unit.Commit();
    });
    return outcomes;
  }

  std::vector<db::NotificationLogRow> Log(const std::string& tenant) {
    db::NotificationLogFilter filter;
    filter.tenant_id = tenant;
    filter.limit = 10000;
    std::vector<db::NotificationLogRow> rows;
    db_->Read("t", [&](db::UnitOfWork& unit) { rows = unit.notifications().List(filter); });
    return rows;
  }

  std::unique_ptr<Dispatcher> NewDispatcher(db::Database& database, int threads = 1,
                                            DispatcherOptions options = {}) {
    options.threads = threads;
    options.poll = std::chrono::milliseconds(20);
    return std::make_unique<Dispatcher>(database, config_, clock_, *emitter_, &transport_,
                                        transport_, options);
  }

  common::Config config_;
  common::FakeClock clock_{kNow};
  std::unique_ptr<db::SociDatabase> db_;
  std::unique_ptr<Emitter> emitter_;
  RecordingTransport transport_;
};
TYPED_TEST_SUITE(NotificationOutboxTest, Engines, EngineNames);

TYPED_TEST(NotificationOutboxTest, ConcurrentEmitsQueueOnePerChannelAndLogTheRestSuppressed) {
  this->Configure("acme", true, true);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int i = 0; i < 200; ++i) {
    threads.emplace_back([&, i] {
      try {
        this->Emit("acme", Psi("model-" + std::to_string(i), 0.5));
      } catch (const std::exception&) {
        ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  std::map<std::pair<Channel, Decision>, int> counts;
  for (const auto& row : this->Log("acme")) counts[{row.channel, row.decision}]++;
  for (const Channel channel : domain::kAllChannels) {
    EXPECT_EQ((counts[{channel, Decision::kQueued}]), 1) << domain::ChannelWord(channel);
    EXPECT_EQ((counts[{channel, Decision::kSuppressed}]), 199) << domain::ChannelWord(channel);
  }
}

TYPED_TEST(NotificationOutboxTest, EveryDecisionIsALogRow) {
  this->Configure("acme", true, false);
  auto below = this->Emit("acme", Psi("m", 0.20));  // strictly greater fires; 0.20 does not
  ASSERT_EQ(below.size(), 2u);
  EXPECT_EQ(below[0].decision, Decision::kBelowThreshold);
  EXPECT_EQ(below[1].decision, Decision::kBelowThreshold);
  auto fired = this->Emit("acme", Psi("m", 0.2000001));
  ASSERT_EQ(fired.size(), 2u);
  EXPECT_EQ(fired[0].channel, Channel::kEmail);
  EXPECT_EQ(fired[0].decision, Decision::kQueued);
  EXPECT_EQ(fired[1].decision, Decision::kDisabled);  // Slack is off for acme
  // A tenant that never saved settings: email on without recipients, Slack off.
  auto fresh = this->Emit("newco", domain::ColdStartGraduated{"m", 500});
  ASSERT_EQ(fresh.size(), 2u);
  EXPECT_EQ(fresh[0].decision, Decision::kUnconfigured);
  EXPECT_EQ(fresh[1].decision, Decision::kDisabled);
  EXPECT_EQ(this->Log("acme").size(), 4u);
  for (const auto& row : this->Log("acme")) {
    EXPECT_EQ(row.status, row.decision == Decision::kQueued ? DeliveryStatus::kQueued
                                                            : DeliveryStatus::kSuppressed);
    EXPECT_GT(row.id, 0);
  }
}

TYPED_TEST(NotificationOutboxTest, ADigestFollowsAWindowThatSuppressedEvents) {
  this->Configure("acme", true, false);
  this->Emit("acme", Psi("model-a", 0.31));
  this->clock_.Advance(std::chrono::seconds(10));
  this->Emit("acme", Psi("model-b", 0.27));
  this->clock_.Advance(std::chrono::seconds(10));
  this->Emit("acme", Psi("model-c", 0.41));
  int queued = 0;
  this->db_->Transact("t", [&](db::UnitOfWork& unit) {
    queued = this->emitter_->QueueClosedWindowDigests(unit, this->clock_.NowUnix(), 10);
    unit.Commit();
  });
  EXPECT_EQ(queued, 0) << "the window is still open";

  this->clock_.Set(kNow + kWindow);  // the window has ended
  this->db_->Transact("t", [&](db::UnitOfWork& unit) {
    queued = this->emitter_->QueueClosedWindowDigests(unit, this->clock_.NowUnix(), 10);
    unit.Commit();
  });
  EXPECT_EQ(queued, 1);  // email only: Slack is off
  std::vector<db::NotificationLogRow> digests;
  for (const auto& row : this->Log("acme")) {
    if (row.kind == domain::LogKind::kDigest) digests.push_back(row);
  }
  ASSERT_EQ(digests.size(), 1u);
  EXPECT_EQ(digests[0].status, DeliveryStatus::kQueued);
  const DigestPayload digest =
      DigestPayloadFromJson(domain::Trigger::kPsiDrift, digests[0].payload);
  EXPECT_EQ(digest.count, 2);
  ASSERT_EQ(digest.items.size(), 2u);
  EXPECT_EQ(std::get<domain::PsiDrift>(digest.items[0]).model, "model-b");

  // Consumed: a second sweep queues nothing more.
  this->db_->Transact("t", [&](db::UnitOfWork& unit) {
    queued = this->emitter_->QueueClosedWindowDigests(unit, this->clock_.NowUnix(), 10);
    unit.Commit();
  });
  EXPECT_EQ(queued, 0);
}

TYPED_TEST(NotificationOutboxTest, AnEventAfterTheWindowQueuesTheDigestAndItself) {
  this->Configure("acme", true, false);
  this->Emit("acme", Psi("model-a", 0.31));
  this->Emit("acme", Psi("model-b", 0.27));  // suppressed
  this->clock_.Set(kNow + kWindow + 5);
  auto next = this->Emit("acme", Psi("model-c", 0.5));
  EXPECT_EQ(next[0].decision, Decision::kQueued);
  int digests = 0;
  for (const auto& row : this->Log("acme")) digests += row.kind == domain::LogKind::kDigest;
  EXPECT_EQ(digests, 1);
}

TYPED_TEST(NotificationOutboxTest, ABillingTriggerIsLoggedOncePerStripeEvent) {
  this->Configure("acme", true, true);
  domain::PaymentFailed failed;
  failed.event_id = "evt_pf";
  failed.hosted_invoice_url = "https://invoice.stripe.com/i/x";
  EXPECT_EQ(this->Emit("acme", failed, "evt_pf").size(), 2u);
  EXPECT_TRUE(this->Emit("acme", failed, "evt_pf").empty()) << "a replay logs nothing new";
  EXPECT_EQ(this->Log("acme").size(), 2u);
}

// Two dispatchers on two pools (two replicas) and several threads each: every queued row is
// sent exactly once.
TYPED_TEST(NotificationOutboxTest, TwoDispatchersSendEveryRowOnce) {
  constexpr int kTenants = 250;  // two rows each (email, Slack): 500 rows
  for (int i = 0; i < kTenants; ++i) {
    const std::string tenant = "t" + std::to_string(i);
    this->Configure(tenant, true, true);
    this->Emit(tenant, Psi("model-" + std::to_string(i), 0.9));
  }
  db::SociDatabase second(this->database_->parsed(), 4);
  auto one = this->NewDispatcher(*this->db_, 3);
  auto two = this->NewDispatcher(second, 3);
  one->Start();
  two->Start();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline &&
         this->transport_.emails().size() + this->transport_.slack().size() < 2u * kTenants) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling with a deadline
  }
  one->Stop();
  two->Stop();
  std::multiset<std::string> sent;
  for (const auto& email : this->transport_.emails()) sent.insert("email " + email.to.at(0));
  for (const auto& [url, json] : this->transport_.slack()) sent.insert("slack " + json);
  EXPECT_EQ(sent.size(), 2u * kTenants);
  for (const auto& key : sent) EXPECT_EQ(sent.count(key), 1u) << key;
  int unsent = 0;
  db::NotificationLogFilter filter;
  filter.limit = 10000;
  std::vector<db::NotificationLogRow> rows;
  this->db_->Read("t", [&](db::UnitOfWork& unit) { rows = unit.notifications().List(filter); });
  for (const auto& row : rows) unsent += row.status != DeliveryStatus::kSent;
  EXPECT_EQ(unsent, 0);
}

TYPED_TEST(NotificationOutboxTest, TemporaryFailuresRetryWithBackoffThenGoDead) {
  this->Configure("acme", true, false);
  this->Emit("acme", Psi("m", 0.9));
  DeliveryResult busy;
  busy.kind = DeliveryResult::Kind::kRetry;
  busy.error = "smtp answered 451";
  this->transport_.Answer(busy);
  auto dispatcher = this->NewDispatcher(*this->db_);
  auto email_row = [&] {
    for (const auto& row : this->Log("acme")) {
      if (row.channel == Channel::kEmail) return row;
    }
    throw std::runtime_error("no email row");
  };
  for (int attempt = 1; attempt <= kMaxDeliveryAttempts; ++attempt) {
    EXPECT_EQ(dispatcher->RunOnce(), 1) << "attempt " << attempt;
    const auto row = email_row();
    EXPECT_EQ(row.attempts, attempt);
    if (attempt < kMaxDeliveryAttempts) {
      EXPECT_EQ(row.status, DeliveryStatus::kFailed);
      ASSERT_TRUE(row.next_attempt_at.has_value());
      EXPECT_GE(*row.next_attempt_at, this->clock_.NowUnix());
      EXPECT_EQ(dispatcher->RunOnce(), 0) << "not due before its backoff";
      this->clock_.Set(*row.next_attempt_at);
    } else {
      EXPECT_EQ(row.status, DeliveryStatus::kDead);
      EXPECT_THAT(row.last_error, HasSubstr("smtp answered 451"));
    }
  }
  EXPECT_EQ(this->transport_.emails().size(), static_cast<size_t>(kMaxDeliveryAttempts));
}

TYPED_TEST(NotificationOutboxTest, SlackRetryAfterIsHonoured) {
  this->Configure("acme", false, true);
  this->Emit("acme", Psi("m", 0.9));
  DeliveryResult limited;
  limited.kind = DeliveryResult::Kind::kRetry;
  limited.error = "slack answered 429";
  limited.retry_after = std::chrono::seconds(120);
  this->transport_.Answer(limited);
  auto dispatcher = this->NewDispatcher(*this->db_);
  EXPECT_EQ(dispatcher->RunOnce(), 1);
  const auto row = this->Log("acme").front();  // Slack's row: email was decided first
  EXPECT_EQ(row.channel, Channel::kSlack);
  EXPECT_EQ(row.status, DeliveryStatus::kFailed);
  EXPECT_EQ(row.next_attempt_at, this->clock_.NowUnix() + 120);
}

TYPED_TEST(NotificationOutboxTest, AGoneSlackWebhookIsDeadAndFlagsTheSetting) {
  this->Configure("acme", false, true);
  this->Emit("acme", Psi("m", 0.9));
  DeliveryResult gone;
  gone.kind = DeliveryResult::Kind::kPermanent;
  gone.error = "slack answered 404";
  gone.slack_url_broken = true;
  this->transport_.Answer(gone);
  auto dispatcher = this->NewDispatcher(*this->db_);
  EXPECT_EQ(dispatcher->RunOnce(), 1);
  EXPECT_EQ(this->Log("acme").front().status, DeliveryStatus::kDead);
  std::optional<domain::NotificationSettings> settings;
  std::vector<db::AuditEntry> audit;
  this->db_->Read("t", [&](db::UnitOfWork& unit) {
    settings = unit.notifications().FindSettings("acme");
    audit = unit.audit().ListForTenant("acme", 10);
  });
  ASSERT_TRUE(settings.has_value());
  EXPECT_TRUE(settings->slack_broken);
  ASSERT_FALSE(audit.empty());
  EXPECT_EQ(audit[0].action, "notifications.slack.flagged_broken");
  EXPECT_THAT(audit[0].detail, ::testing::Not(HasSubstr("secret")));
}

TYPED_TEST(NotificationOutboxTest, TheMessageCarriesTheTenantsRecipientsAndTheLink) {
  this->Configure("acme", true, true);
  this->Emit("acme", Psi("model-a", 0.31));
  auto dispatcher = this->NewDispatcher(*this->db_);
  EXPECT_EQ(dispatcher->RunOnce() + dispatcher->RunOnce(), 2);  // one row per claim
  const auto emails = this->transport_.emails();
  ASSERT_EQ(emails.size(), 1u);
  EXPECT_EQ(emails[0].to, std::vector<std::string>{"ops@acme.test"});
  EXPECT_THAT(emails[0].text, HasSubstr("model-a"));
  EXPECT_THAT(emails[0].text, HasSubstr("https://app.example.com/settings/notifications"));
  const auto slack = this->transport_.slack();
  ASSERT_EQ(slack.size(), 1u);
  EXPECT_EQ(slack[0].first, "https://hooks.slack.com/services/T1/B1/secret");
  EXPECT_THAT(slack[0].second, HasSubstr("model-a"));
  for (const auto& row : this->Log("acme")) EXPECT_EQ(row.status, DeliveryStatus::kSent);
}

// A claim that expired while its sender was still at work is taken again; the first sender's
// result, arriving late, must not overwrite the second one's (each claim is its own token,
// even within one process).
TYPED_TEST(NotificationOutboxTest, ALostClaimCannotRecordItsResult) {
  this->Configure("acme", false, true);
  this->Emit("acme", Psi("m", 0.9));
  auto dispatcher = this->NewDispatcher(*this->db_);
  std::promise<void> first_sending, second_sending, release_first, release_second;
  auto release_first_future = release_first.get_future().share();
  auto release_second_future = release_second.get_future().share();
  this->transport_.during_send = [&](int call) {
    DeliveryResult result;
    if (call == 1) {
      first_sending.set_value();
      release_first_future.wait();
      result.kind = DeliveryResult::Kind::kPermanent;  // the stale sender's verdict
      result.error = "stale verdict";
    } else {
      second_sending.set_value();
      release_second_future.wait();
    }
    return result;
  };
  std::thread first([&] { dispatcher->RunOnce(); });
  first_sending.get_future().wait();
  this->clock_.Advance(std::chrono::seconds(200));  // the lease (90 s) has expired
  std::thread second([&] { dispatcher->RunOnce(); });
  second_sending.get_future().wait();
  release_first.set_value();
  first.join();
  EXPECT_EQ(this->Log("acme").front().status, DeliveryStatus::kSending)
      << "the stale claim recorded its result over the live one";
  release_second.set_value();
  second.join();
  const auto row = this->Log("acme").front();
  EXPECT_EQ(row.status, DeliveryStatus::kSent);
  EXPECT_EQ(row.attempts, 2);
}

TYPED_TEST(NotificationOutboxTest, AWindowIsDigestedOnceEvenWhenALateEventArrivesAfterTheSweep) {
  this->Configure("acme", true, false);
  this->Emit("acme", Psi("model-a", 0.31));
  this->clock_.Advance(std::chrono::seconds(10));
  this->Emit("acme", Psi("model-b", 0.27));  // suppressed
  this->clock_.Set(kNow + kWindow);
  this->db_->Transact("t", [&](db::UnitOfWork& unit) {
    EXPECT_EQ(this->emitter_->QueueClosedWindowDigests(unit, this->clock_.NowUnix(), 10), 1);
    unit.Commit();
  });
  // An Emit that read its clock just before the window ended commits after the sweep: it
  // opens a new window instead of adding to the digested one.
  this->clock_.Set(kNow + kWindow - 1);
  EXPECT_EQ(this->Emit("acme", Psi("model-c", 0.41))[0].decision, Decision::kQueued);
  this->clock_.Set(kNow + 3 * kWindow);
  this->db_->Transact("t", [&](db::UnitOfWork& unit) {
    EXPECT_EQ(this->emitter_->QueueClosedWindowDigests(unit, this->clock_.NowUnix(), 10), 0);
    unit.Commit();
  });
  int digests = 0;
  for (const auto& row : this->Log("acme")) digests += row.kind == domain::LogKind::kDigest;
  EXPECT_EQ(digests, 1);
}

TYPED_TEST(NotificationOutboxTest, AChannelSwitchedOffAfterQueueingIsNotSent) {
  this->Configure("acme", false, true);
  this->Emit("acme", Psi("m", 0.9));
  this->Configure("acme", false, false);  // the tenant turns Slack off
  auto dispatcher = this->NewDispatcher(*this->db_);
  EXPECT_EQ(dispatcher->RunOnce(), 1);
  EXPECT_TRUE(this->transport_.slack().empty());
  const auto row = this->Log("acme").front();
  EXPECT_EQ(row.status, DeliveryStatus::kDead);
  EXPECT_THAT(row.last_error, HasSubstr("switched this off"));
}

// A row whose senders keep dying mid-send (its lease expires again and again) is given up
// after the attempt limit instead of being claimed forever.
TYPED_TEST(NotificationOutboxTest, ARowReclaimedPastTheAttemptLimitIsDeadWithoutSending) {
  this->Configure("acme", false, true);
  this->Emit("acme", Psi("m", 0.9));
  for (int i = 0; i < kMaxDeliveryAttempts; ++i) {
    this->db_->Transact("t", [&](db::UnitOfWork& unit) {
      EXPECT_EQ(unit.notifications()
                    .ClaimDue("dies-" + std::to_string(i), this->clock_.NowUnix(), 90, 1)
                    .size(),
                1u);
      unit.Commit();
    });
    this->clock_.Advance(std::chrono::seconds(91));
  }
  auto dispatcher = this->NewDispatcher(*this->db_);
  EXPECT_EQ(dispatcher->RunOnce(), 1);
  EXPECT_TRUE(this->transport_.slack().empty());
  const auto row = this->Log("acme").front();
  EXPECT_EQ(row.status, DeliveryStatus::kDead);
  EXPECT_THAT(row.last_error, HasSubstr("stopped mid-send"));
}

// Retention: finished rows past 90 days go, rows still to be sent stay whatever their age.
TYPED_TEST(NotificationOutboxTest, FinishedRowsPastRetentionArePurgedAndPendingOnesKept) {
  this->Configure("acme", true, true);
  this->Emit("acme", Psi("model-a", 0.9));  // two queued rows
  this->Emit("acme", Psi("model-b", 0.9));  // two suppressed rows
  DispatcherOptions one_at_a_time;
  one_at_a_time.batch = 1;
  auto dispatcher = this->NewDispatcher(*this->db_, 1, one_at_a_time);
  EXPECT_EQ(dispatcher->RunOnce(), 1);  // the email row is sent; Slack's stays queued
  ASSERT_EQ(this->Log("acme").size(), 4u);

  this->db_->Transact("t", [&](db::UnitOfWork& unit) {
    EXPECT_EQ(unit.notifications().PurgeFinished(kNow, 1000), 0) << "nothing is older";
    unit.Commit();
  });
  this->clock_.Advance(std::chrono::hours(24 * 91));
  this->transport_.Answer([] {
    DeliveryResult busy;
    busy.kind = DeliveryResult::Kind::kRetry;
    busy.error = "slack answered 503";
    return busy;
  }());
  auto later = this->NewDispatcher(*this->db_);
  later->RunOnce();  // purges (after queueing model-b's digests, which are new rows)
  std::vector<db::NotificationLogRow> old;
  for (const auto& row : this->Log("acme")) {
    if (row.created_at == kNow) old.push_back(row);
  }
  ASSERT_EQ(old.size(), 1u) << "finished rows past retention are still there";
  EXPECT_EQ(old[0].channel, Channel::kSlack);
  EXPECT_EQ(old[0].decision, Decision::kQueued);  // still to be sent: kept
}

// Claimers taking batches at the same time (threads of one process and replicas alike) get
// disjoint rows, and between them every due row.
TYPED_TEST(NotificationOutboxTest, ConcurrentBatchClaimsNeverShareARow) {
  constexpr int kTenants = 150;  // 300 queued rows
  for (int i = 0; i < kTenants; ++i) {
    const std::string tenant = "t" + std::to_string(i);
    this->Configure(tenant, true, true);
    this->Emit(tenant, Psi("m", 0.9));
  }
  std::mutex mu;
  std::vector<int64_t> claimed;
  std::vector<std::thread> claimers;
  std::atomic<int> failures{0};
  for (int c = 0; c < 6; ++c) {
    claimers.emplace_back([&, c] {
      for (int round = 0; round < 20; ++round) {
        std::vector<db::NotificationLogRow> rows;
        try {
          this->db_->Transact("t", [&](db::UnitOfWork& unit) {
            rows = unit.notifications().ClaimDue(
                "claimer-" + std::to_string(c) + ":" + std::to_string(round), kNow, 90, 16);
            unit.Commit();
          });
        } catch (const std::exception&) {
          ++failures;
        }
        std::lock_guard<std::mutex> lock(mu);
        for (const auto& row : rows) claimed.push_back(row.id);
      }
    });
  }
  for (auto& claimer : claimers) claimer.join();
  EXPECT_EQ(failures.load(), 0);
  const std::set<int64_t> distinct(claimed.begin(), claimed.end());
  EXPECT_EQ(distinct.size(), claimed.size()) << "a row was handed to two claimers";
  EXPECT_EQ(claimed.size(), 2u * kTenants);
}

// One row of a batch that cannot be rendered, one the peer refuses for good and one it asks
// to retry: each gets its own result, the rest of the batch is sent.
TYPED_TEST(NotificationOutboxTest, OneFailingRowOfABatchDoesNotFailTheOthers) {
  for (const char* tenant : {"a", "b", "c", "d", "e"}) {
    this->Configure(tenant, false, true);
    this->Emit(tenant, Psi(std::string("model-") + tenant, 0.9));
  }
  int64_t broken_id = 0;
  this->db_->Transact("t", [&](db::UnitOfWork& unit) {
    db::NotificationLogRow row;
    row.tenant_id = "a";
    row.trigger = domain::Trigger::kPsiDrift;
    row.channel = Channel::kSlack;
    row.next_attempt_at = kNow;
    row.payload = "this is not JSON";
    row.created_at = kNow;
    broken_id = *unit.notifications().Append(row);
    unit.Commit();
  });
  this->transport_.during_send = [&](int) {
    DeliveryResult result;
    const auto posted = this->transport_.slack();
    const std::string& json = posted.back().second;
    if (json.find("model-b") != std::string::npos) {
      result.kind = DeliveryResult::Kind::kPermanent;
      result.error = "slack answered 401";
    } else if (json.find("model-c") != std::string::npos) {
      result.kind = DeliveryResult::Kind::kRetry;
      result.error = "slack answered 503";
    }
    return result;
  };
  DispatcherOptions in_turn;  // one send at a time, so the hook's last post is its own
  in_turn.senders = 0;
  auto dispatcher = this->NewDispatcher(*this->db_, 1, in_turn);
  EXPECT_EQ(dispatcher->RunOnce(), 6);  // one batch: every row claimed and recorded
  std::map<std::string, std::vector<db::NotificationLogRow>> by_tenant;
  for (const char* tenant : {"a", "b", "c", "d", "e"}) by_tenant[tenant] = this->Log(tenant);
  for (const auto& row : by_tenant["a"]) {
    if (row.id == broken_id) {
      EXPECT_EQ(row.status, DeliveryStatus::kDead);
      EXPECT_FALSE(row.last_error.empty());
    } else if (row.decision == Decision::kQueued) {
      EXPECT_EQ(row.status, DeliveryStatus::kSent);
    }
  }
  auto slack_row = [&](const std::string& tenant) {
    for (const auto& row : by_tenant[tenant]) {
      if (row.channel == Channel::kSlack) return row;
    }
    throw std::runtime_error("no Slack row for " + tenant);
  };
  EXPECT_EQ(slack_row("b").status, DeliveryStatus::kDead);
  EXPECT_EQ(slack_row("c").status, DeliveryStatus::kFailed);
  EXPECT_EQ(slack_row("d").status, DeliveryStatus::kSent);
  EXPECT_EQ(slack_row("e").status, DeliveryStatus::kSent);
  EXPECT_EQ(this->transport_.slack().size(), 5u);  // the unrenderable row is never posted
}

// The sends of one batch are in flight together (a slow peer does not serialise the batch).
TYPED_TEST(NotificationOutboxTest, ABatchIsSentConcurrently) {
  constexpr int kRows = 4;
  for (int i = 0; i < kRows; ++i) {
    const std::string tenant = "t" + std::to_string(i);
    this->Configure(tenant, false, true);
    this->Emit(tenant, Psi("m", 0.9));
  }
  std::mutex mu;
  std::condition_variable all_in;
  int in_flight = 0, most = 0;
  this->transport_.during_send = [&](int) {
    std::unique_lock<std::mutex> lock(mu);
    most = std::max(most, ++in_flight);
    all_in.notify_all();
    // Waits (bounded) until every send of the batch is in flight.
    all_in.wait_for(lock, std::chrono::seconds(10), [&] { return most >= kRows; });
    --in_flight;
    return DeliveryResult{};
  };
  auto dispatcher = this->NewDispatcher(*this->db_);
  EXPECT_EQ(dispatcher->RunOnce(), kRows);
  EXPECT_EQ(most, kRows);
}

// A claimed row whose send could not start in time (it waited too long behind slow sends) is
// given back unsent: due again, and the claim does not count as an attempt.
TYPED_TEST(NotificationOutboxTest, RowsThatCannotStartInTimeAreGivenBackUnsent) {
  this->Configure("acme", true, true);
  this->Emit("acme", Psi("m", 0.9));
  DispatcherOptions no_time;
  no_time.start_within = std::chrono::seconds(0);
  auto late = this->NewDispatcher(*this->db_, 1, no_time);
  EXPECT_EQ(late->RunOnce(), 0);
  EXPECT_TRUE(this->transport_.slack().empty());
  EXPECT_TRUE(this->transport_.emails().empty());
  for (const auto& row : this->Log("acme")) {
    EXPECT_EQ(row.status, DeliveryStatus::kQueued);
    EXPECT_EQ(row.attempts, 0);
  }
  auto dispatcher = this->NewDispatcher(*this->db_);
  EXPECT_EQ(dispatcher->RunOnce(), 2);  // due at once, sent by the next claim
  for (const auto& row : this->Log("acme")) EXPECT_EQ(row.status, DeliveryStatus::kSent);
}

}  // namespace
}  // namespace paybell::notifications

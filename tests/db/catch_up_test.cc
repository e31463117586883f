// Catch-up (EventSync) and reconcile (Reconciler) against real SQLite and PostgreSQL, through
// the same EventIngestor the webhooks use. Stripe's side is an in-memory account that lists
// and pages as Stripe's API does (newest first, limit, starting_after, has_more); the HTTP
// client against stripe-fake is covered by the e2e tests.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <set>

#include "db/migrations.h"
#include "db/soci_database.h"
#include "server/catchup/catch_up_jobs.h"
#include "server/catchup/event_sync.h"
#include "server/catchup/reconciler.h"
#include "server/common/error.h"
#include "tests/support/db_backends.h"
#include "tests/support/eventually.h"
#include "tests/support/stripe_events.h"

namespace paybell::catchup {
namespace {

using testing::ApiShape;
using testing::EngineNames;
using testing::Engines;
using testing::EngineTest;
using testing::SubscriptionSpec;

constexpr int64_t kNow = 1'800'100'000;
const std::string kSecret = "whsec_catch_up_test";

// The Stripe events whose tenant would be notified.
class RecordedNotifications final : public webhooks::BillingNotifications {
 public:
  void Raise(db::UnitOfWork&, const std::string&, const domain::TriggerEvent&,
             const std::string& stripe_event_id) override {
    raised.push_back(stripe_event_id);
  }
  std::vector<std::string> raised;
};

// The part of a Stripe account catch-up and reconcile read.
class ListedStripe final : public stripe::StripeApi {
 public:
  std::vector<nlohmann::json> events;  // in the order Stripe created them
  std::vector<nlohmann::json> subscriptions;
  // The next `fail_count` calls of the events list after `fail_after` answered ones are refused
  // as a 429 would be once the client's own retries are spent.
  int fail_after = 0;
  int fail_count = 0;
  int event_list_calls = 0;
  int subscription_list_failures = 0;
  std::set<std::pair<int64_t, int64_t>> listed_windows;  // created[gte], created[lte] asked for
  bool answer_400 = false;  // the events list refuses the query as Stripe would a bad parameter
  int subscription_list_calls = 0;
  // Runs as Stripe reads a subscription: what happens at Stripe and Paybell meanwhile.
  std::function<void()> on_subscription_read;

  nlohmann::json Post(const std::string&, const stripe::FormFields&, const std::string&,
                      stripe::Deadline) override {
    throw common::Error(common::ErrorCode::kInternal, "catch-up never posts");
  }

  nlohmann::json Get(const std::string& path, const stripe::FormFields& query,
                     stripe::Deadline) override {
    std::map<std::string, std::string> q;
    std::vector<std::string> types;
    for (const auto& [k, v] : query) {
      if (k.rfind("types[", 0) == 0) {
        types.push_back(v);
      } else {
        q[k] = v;
      }
    }
    if (path == "/v1/events") {
      ++event_list_calls;
      if (answer_400) {
        throw common::Error(common::ErrorCode::kInvalidArgument,
                            "Stripe: Invalid types[0]: must be one of ...");
      }
      if (fail_count > 0 && event_list_calls > fail_after) {
        --fail_count;
        throw common::Error(common::ErrorCode::kUnavailable, "Stripe is unavailable (HTTP 429)");
      }
      std::vector<const nlohmann::json*> listed;
      const int64_t gte = q.count("created[gte]") ? std::stoll(q["created[gte]"]) : 0;
      const int64_t lte = q.count("created[lte]") ? std::stoll(q["created[lte]"]) : INT64_MAX;
      listed_windows.insert({gte, lte});
      for (auto it = events.rbegin(); it != events.rend(); ++it) {
        const int64_t created = (*it)["created"].get<int64_t>();
        if (created < gte || created > lte) continue;
        if (!types.empty() &&
            std::find(types.begin(), types.end(), (*it)["type"].get<std::string>()) == types.end())
          continue;
        listed.push_back(&*it);
      }
      std::stable_sort(listed.begin(), listed.end(),
                       [](const nlohmann::json* a, const nlohmann::json* b) {
                         return (*a)["created"].get<int64_t>() > (*b)["created"].get<int64_t>();
                       });
      return Page(listed, q);
    }
    if (on_subscription_read) on_subscription_read();
    if (path == "/v1/subscriptions") {
      ++subscription_list_calls;
      if (subscription_list_failures > 0 && subscription_list_calls % 2 == 0) {
        --subscription_list_failures;  // every second call, while failures last
        throw common::Error(common::ErrorCode::kUnavailable, "Stripe is unavailable (HTTP 429)");
      }
      std::vector<const nlohmann::json*> listed;
      for (auto it = subscriptions.rbegin(); it != subscriptions.rend(); ++it) {
        if (q.count("customer") && (*it)["customer"] != q["customer"]) continue;
        listed.push_back(&*it);
      }
      return Page(listed, q);
    }
    const std::string prefix = "/v1/subscriptions/";
    if (path.rfind(prefix, 0) == 0) {
      for (const auto& s : subscriptions) {
        if (s["id"] == path.substr(prefix.size())) return s;
      }
      throw common::Error(common::ErrorCode::kNotFound, "Stripe: No such subscription");
    }
    throw common::Error(common::ErrorCode::kNotFound, "Stripe: unknown path " + path);
  }

 private:
  static nlohmann::json Page(const std::vector<const nlohmann::json*>& listed,
                             std::map<std::string, std::string>& q) {
    const size_t limit = q.count("limit") ? std::stoul(q["limit"]) : 10;
    size_t start = 0;
    if (q.count("starting_after")) {
      while (start < listed.size() && (*listed[start])["id"] != q["starting_after"]) ++start;
      ++start;
    }
    nlohmann::json data = nlohmann::json::array();
    size_t i = start;
    for (; i < listed.size() && data.size() < limit; ++i) data.push_back(*listed[i]);
    return {{"object", "list"}, {"data", data}, {"has_more", i < listed.size()}};
  }
};

nlohmann::json Event(const std::string& id, const std::string& type, int64_t created,
                     const nlohmann::json& object) {
  return nlohmann::json::parse(testing::EventPayload(id, type, created, object));
}

template <typename Engine>
class CatchUpTest : public EngineTest<Engine> {
 protected:
  void SetUp() override {
    EngineTest<Engine>::SetUp();
    if (this->IsSkipped() || this->HasFatalFailure()) return;
    config_.stripe_webhook_secrets = {kSecret};
    config_.stripe_price_starter = "price_starter_1";
    config_.stripe_price_pro = "price_pro_1";
    config_.stripe_price_firm = "price_firm_1";
    db_ = std::make_unique<db::SociDatabase>(this->database_->parsed(), 4);
    db::ApplyMigrations(db_->pool(), db::BuiltinMigrations(), kNow);
    ingestor_ = std::make_unique<webhooks::EventIngestor>(*db_, config_, clock_, sink_);
    SyncPolicy policy;
    policy.patience.backoff_base = std::chrono::milliseconds(1);
    policy.patience.backoff_cap = std::chrono::milliseconds(4);
    sync_ = std::make_unique<EventSync>(stripe_, *ingestor_, *db_, clock_, policy);
    reconciler_ = std::make_unique<Reconciler>(
        stripe_, *ingestor_, *db_,
        webhooks::PlanPrices{"price_starter_1", "price_pro_1", "price_firm_1"}, clock_);
  }

  std::string Deliver(const nlohmann::json& event) {
    const std::string payload = event.dump();
    return std::string(domain::OutcomeWord(
        ingestor_
            ->Ingest(payload, testing::SignatureHeader(kSecret, clock_.NowUnix(), payload), "r")
            .outcome));
  }

  std::optional<domain::Subscription> Stored(const std::string& tenant) {
    std::optional<domain::Subscription> found;
    db_->Read("t", [&](db::UnitOfWork& unit) { found = unit.subscriptions().Find(tenant); });
    return found;
  }

  int Count(const std::string& where) {
    int n = 0;
    db_->pool().Run("t", [&](db::Connection& c) {
      c.session() << "SELECT COUNT(*) FROM billing_events " + where, soci::into(n);
    });
    return n;
  }

  std::vector<db::AuditEntry> Audit(const std::string& tenant) {
    std::vector<db::AuditEntry> out;
    db_->Read("t", [&](db::UnitOfWork& unit) { out = unit.audit().ListForTenant(tenant, 100); });
    return out;
  }

  const webhooks::Actor operator_{"ops@example.com", "operator", "req-sync"};
  common::Config config_;
  common::FakeClock clock_{kNow};
  RecordedNotifications sink_;
  ListedStripe stripe_;
  std::unique_ptr<db::SociDatabase> db_;
  std::unique_ptr<webhooks::EventIngestor> ingestor_;
  std::unique_ptr<EventSync> sync_;
  std::unique_ptr<Reconciler> reconciler_;
};
TYPED_TEST_SUITE(CatchUpTest, Engines, EngineNames);

// 50 tenants × 5 subscription events = 250 events. For each tenant the fourth and fifth share
// one second (Stripe lists them newest first; applying them in that order would leave the
// fourth's state). 125 of them, never the fourth or fifth, were delivered by webhook first, in
// shuffled order.
struct History {
  std::vector<nlohmann::json> events;
  std::vector<nlohmann::json> delivered;
  std::map<std::string, std::pair<std::string, std::string>> final_state;  // tenant → plan, id
};

History MakeHistory() {
  History h;
  const char* prices[] = {"price_starter_1", "price_pro_1", "price_firm_1"};
  const char* plans[] = {"starter", "pro", "firm"};
  int n = 0;
  for (int step = 0; step < 5; ++step) {
    for (int t = 0; t < 50; ++t) {
      SubscriptionSpec spec;
      spec.tenant_id = "tenant-" + std::to_string(t);
      spec.id = "sub_" + std::to_string(t);
      spec.customer = "cus_" + std::to_string(t);
      spec.price = prices[(t + step) % 3];
      const int64_t created = kNow - 5000 + std::min(step, 3) * 100 + t;
      const std::string id = "evt_" + std::to_string(++n);
      h.events.push_back(Event(id, "customer.subscription.updated", created,
                               testing::SubscriptionObject(spec, ApiShape::kCurrent)));
      if (step == 0 || step == 2 || (step == 1 && t % 2 == 0))
        h.delivered.push_back(h.events.back());
      h.final_state[spec.tenant_id] = {plans[(t + step) % 3], id};
    }
  }
  std::mt19937 random(12);
  std::shuffle(h.delivered.begin(), h.delivered.end(), random);
  return h;
}

TYPED_TEST(CatchUpTest, CatchesUpOverThreePagesStoringEachEventOnceInOrder) {
  const History history = MakeHistory();
  ASSERT_EQ(history.events.size(), 250u);
  ASSERT_EQ(history.delivered.size(), 125u);
  for (const auto& event : history.delivered) this->Deliver(event);
  this->stripe_.events = history.events;
  // An event Paybell does not handle is not asked for.
  this->stripe_.events.push_back(
      Event("evt_other", "customer.created", kNow - 10, {{"id", "cus_x"}, {"object", "customer"}}));

  // A dry run counts and writes nothing.
  const SyncCounts dry = this->sync_->Run({kNow - 86400, true}, this->operator_);
  EXPECT_EQ(dry.fetched, 250);
  EXPECT_EQ(dry.ingested, 125);
  EXPECT_EQ(dry.duplicate, 125);
  EXPECT_EQ(this->Count(""), 125);

  std::vector<std::string> stages;
  const SyncCounts counts = this->sync_->Run(
      {}, this->operator_,
      [&](const SyncCounts&, std::string_view stage) { stages.emplace_back(stage); });
  EXPECT_EQ(counts.pages, 3);
  EXPECT_EQ(counts.fetched, 250);
  EXPECT_EQ(counts.ingested, 125);
  EXPECT_EQ(counts.duplicate, 125);
  EXPECT_EQ(counts.refused, 0);
  EXPECT_EQ(std::count(stages.begin(), stages.end(), "paging"), 3);
  // The first run reads all Stripe keeps: 30 days.
  EXPECT_EQ(counts.since, kNow - 30 * 86400);

  EXPECT_EQ(this->Count(""), 250);
  EXPECT_EQ(this->Count("WHERE source = 'sync'"), 125);
  EXPECT_EQ(this->Count("WHERE source = 'webhook'"), 125);
  for (const auto& [tenant, expected] : history.final_state) {
    const auto stored = this->Stored(tenant);
    ASSERT_TRUE(stored) << tenant;
    EXPECT_EQ(domain::PlanWord(stored->plan), expected.first) << tenant;
    EXPECT_EQ(stored->last_event_id, expected.second) << tenant;
  }

  // Again: everything is a duplicate, nothing is applied twice.
  const SyncCounts again = this->sync_->Run({kNow - 86400, false}, this->operator_);
  EXPECT_EQ(again.ingested, 0);
  EXPECT_EQ(again.duplicate, 250);
  EXPECT_EQ(this->Count(""), 250);
  // Finding an event already stored is not a duplicate delivery of its webhook.
  EXPECT_EQ(this->Count("WHERE duplicate_deliveries > 0"), 0);
}

TYPED_TEST(CatchUpTest, AWindowTooLargeToHoldIsFetchedInHalves) {
  const History history = MakeHistory();
  for (const auto& event : history.delivered) this->Deliver(event);
  this->stripe_.events = history.events;
  SyncPolicy policy;
  policy.window_events = 60;  // 250 events in ~350 seconds: windows of 60 at most
  EventSync sync(this->stripe_, *this->ingestor_, *this->db_, this->clock_, policy);
  const SyncCounts counts = sync.Run({}, this->operator_);
  // Listed in several windows, each holding at most 60 (an oversized listing stops at the
  // page that passes 60, then the window is halved).
  EXPECT_GE(this->stripe_.listed_windows.size(), 5u);
  EXPECT_EQ(counts.fetched, 250);
  EXPECT_EQ(counts.ingested, 125);
  EXPECT_EQ(counts.duplicate, 125);
  EXPECT_EQ(this->Count(""), 250);
  for (const auto& [tenant, expected] : history.final_state) {
    const auto stored = this->Stored(tenant);
    ASSERT_TRUE(stored) << tenant;
    EXPECT_EQ(domain::PlanWord(stored->plan), expected.first) << tenant;
    EXPECT_EQ(stored->last_event_id, expected.second) << tenant;
  }
  // More events in one second than a window holds: one second cannot be split, it is held
  // whole.
  this->stripe_.events.clear();
  for (int i = 0; i < 150; ++i) {
    this->stripe_.events.push_back(Event("evt_burst_" + std::to_string(i),
                                         "customer.subscription.updated", kNow - 30,
                                         testing::SubscriptionObject({}, ApiShape::kCurrent)));
  }
  const SyncCounts burst = sync.Run({kNow - 60, false}, this->operator_);
  EXPECT_EQ(burst.fetched, 150);
  EXPECT_EQ(burst.ingested, 150);
  EXPECT_EQ(this->Count("WHERE event_id LIKE 'evt_burst_%'"), 150);
}

TYPED_TEST(CatchUpTest, CoverageOnlyMovesForward) {
  const auto synced_until = [&] {
    std::optional<int64_t> at;
    this->db_->Read("t", [&](db::UnitOfWork& unit) { at = unit.events().SyncedUntil(); });
    return at;
  };
  const auto set = [&](int64_t covered) {
    this->db_->Transact("t", [&](db::UnitOfWork& unit) {
      unit.events().SetSyncedUntil(covered);
      unit.Commit();
    });
  };
  EXPECT_FALSE(synced_until());
  set(kNow);
  EXPECT_EQ(synced_until(), kNow);
  set(kNow - 100);  // a slow run finishing after a newer one
  EXPECT_EQ(synced_until(), kNow);
  set(kNow + 100);
  EXPECT_EQ(synced_until(), kNow + 100);
}

TYPED_TEST(CatchUpTest, StoredAmongNamesEachStoredIdOnceForAnyNumberOfIds) {
  const History history = MakeHistory();
  for (const auto& event : history.delivered) this->Deliver(event);
  std::set<std::string> delivered;
  for (const auto& event : history.delivered) delivered.insert(event["id"].get<std::string>());
  // 250 listed ids (three statements of 100), a few named twice, and ids never seen.
  std::vector<std::string> asked;
  for (const auto& event : history.events) asked.push_back(event["id"].get<std::string>());
  asked.push_back(asked.front());
  asked.push_back(*delivered.begin());
  asked.push_back("evt_never_seen");
  const auto stored_among = [&](const std::vector<std::string>& ids) {
    std::vector<std::string> stored;
    this->db_->Read("t", [&](db::UnitOfWork& unit) { stored = unit.events().StoredAmong(ids); });
    return stored;
  };
  const std::vector<std::string> stored = stored_among(asked);
  EXPECT_EQ(stored.size(), delivered.size());
  EXPECT_EQ(std::set<std::string>(stored.begin(), stored.end()), delivered);
  EXPECT_TRUE(stored_among({}).empty());
  EXPECT_TRUE(stored_among({"evt_never_seen"}).empty());
  EXPECT_EQ(stored_among({*delivered.begin()}), std::vector<std::string>{*delivered.begin()});
}

TYPED_TEST(CatchUpTest, AnEventOlderThanStripesRetriesAppliesWithoutNotifying) {
  SubscriptionSpec spec;  // acme, sub_1, cus_1
  ASSERT_EQ(this->Deliver(Event("evt_sub", "customer.subscription.created", kNow - 10 * 86400,
                                testing::SubscriptionObject(spec, ApiShape::kCurrent))),
            "applied");
  testing::InvoiceSpec old_invoice;
  old_invoice.id = "in_old";
  testing::InvoiceSpec recent_invoice;
  recent_invoice.id = "in_recent";
  this->stripe_.events = {Event("evt_old_failure", "invoice.payment_failed", kNow - 4 * 86400,
                                testing::InvoiceObject(old_invoice, ApiShape::kCurrent)),
                          Event("evt_recent_failure", "invoice.payment_failed", kNow - 3600,
                                testing::InvoiceObject(recent_invoice, ApiShape::kCurrent))};
  const SyncCounts counts = this->sync_->Run({}, this->operator_);
  EXPECT_EQ(counts.ingested, 2);
  EXPECT_EQ(counts.outcomes.at("applied"), 2);
  // Four days old: past Stripe's own retries, the tenant is not told of it now.
  EXPECT_EQ(this->sink_.raised, std::vector<std::string>{"evt_recent_failure"});
}

TYPED_TEST(CatchUpTest, AfterALongOutageStartsWhereTheLastCompletedRunEnded) {
  // A completed catch-up at kNow; then four days down (longer than Stripe retries a webhook).
  EXPECT_EQ(this->sync_->Run({}, this->operator_).since, kNow - 30 * 86400);
  this->clock_.Advance(std::chrono::hours(96));
  SubscriptionSpec spec;
  spec.price = "price_firm_1";
  const auto lost = Event("evt_lost", "customer.subscription.updated", kNow + 86400,
                          testing::SubscriptionObject(spec, ApiShape::kCurrent));
  spec.cancel_at_period_end = true;
  const auto fresh = Event("evt_fresh", "customer.subscription.updated", kNow + 96 * 3600 - 60,
                           testing::SubscriptionObject(spec, ApiShape::kCurrent));
  this->stripe_.events = {lost, fresh};
  // Back up: the first webhook arrives before the first catch-up runs.
  ASSERT_EQ(this->Deliver(fresh), "applied");
  // Catch-up starts from the last run's end, not from the newest stored event, so the event
  // lost during the outage is found.
  const SyncCounts counts = this->sync_->Run({}, this->operator_);
  EXPECT_EQ(counts.since, kNow - 3600);
  EXPECT_EQ(counts.ingested, 1);
  EXPECT_EQ(counts.duplicate, 1);
  EXPECT_EQ(this->Count("WHERE event_id = 'evt_lost' AND source = 'sync'"), 1);
  // And the next run starts from this one's end; a dry run or a run from a later --since
  // (which leaves a hole) records nothing.
  this->clock_.Advance(std::chrono::hours(1));
  this->sync_->Run({kNow + 96 * 3600 + 1800, false}, this->operator_);
  this->sync_->Run({std::nullopt, true}, this->operator_);
  EXPECT_EQ(this->sync_->Run({}, this->operator_).since, kNow + 96 * 3600 - 3600);
}

TYPED_TEST(CatchUpTest, ResumesFromTheSamePageAfterRateLimits) {
  this->stripe_.events = MakeHistory().events;
  this->stripe_.fail_after = 1;  // the first page answers, the next three calls are refused
  this->stripe_.fail_count = 3;
  const SyncCounts counts = this->sync_->Run({kNow - 86400, false}, this->operator_);
  EXPECT_EQ(counts.pages, 3);
  EXPECT_EQ(counts.ingested, 250);
  EXPECT_EQ(this->stripe_.event_list_calls, 6);
  EXPECT_EQ(this->Count("WHERE source = 'sync'"), 250);
}

TYPED_TEST(CatchUpTest, GivesUpWhenStripeStaysUnavailableAndStoresNothingHalfWay) {
  this->stripe_.events = MakeHistory().events;
  this->stripe_.fail_after = 1;
  this->stripe_.fail_count = 1000;
  try {
    this->sync_->Run({kNow - 86400, false}, this->operator_);
    FAIL() << "expected kUnavailable";
  } catch (const common::Error& e) {
    EXPECT_EQ(e.code(), common::ErrorCode::kUnavailable);
  }
  EXPECT_EQ(this->Count(""), 0);

  // A query Stripe refuses is Paybell's own (not the caller's): for an operator, not retried.
  this->stripe_.answer_400 = true;
  const int calls = this->stripe_.event_list_calls;
  try {
    this->sync_->Run({kNow - 86400, false}, this->operator_);
    FAIL() << "expected kFailedPrecondition";
  } catch (const common::Error& e) {
    EXPECT_EQ(e.code(), common::ErrorCode::kFailedPrecondition);
    EXPECT_THAT(e.what(), ::testing::HasSubstr("Stripe refused the request"));
  }
  EXPECT_EQ(this->stripe_.event_list_calls, calls + 1);
}

TYPED_TEST(CatchUpTest, ReconcileCorrectsAWrongTenantAuditedWithTheDiff) {
  SubscriptionSpec spec;  // acme, sub_1, cus_1, active, pro
  ASSERT_EQ(this->Deliver(Event("evt_1", "customer.subscription.created", kNow - 1000,
                                testing::SubscriptionObject(spec, ApiShape::kCurrent))),
            "applied");
  // Stripe moved on (plan changed in the portal, cancel at period end) and the events were lost;
  // the stored row was also damaged by hand.
  spec.price = "price_firm_1";
  spec.cancel_at_period_end = true;
  this->stripe_.subscriptions.push_back(testing::SubscriptionObject(spec, ApiShape::kCurrent));
  this->db_->Transact("damage", [&](db::UnitOfWork& unit) {
    auto row = *unit.subscriptions().Find("acme");
    row.status = domain::SubscriptionStatus::kPastDue;
    unit.subscriptions().Upsert(row);
    unit.Commit();
  });

  const ReconcileCounts dry = this->reconciler_->Run({"acme", true}, this->operator_);
  EXPECT_EQ(dry.checked, 1);
  EXPECT_EQ(dry.changed, 1);
  std::map<std::string, std::pair<std::string, std::string>> diffs;
  for (const FieldDiff& d : dry.diffs) diffs[d.field] = {d.before, d.after};
  EXPECT_EQ(diffs["plan"], std::make_pair(std::string("pro"), std::string("firm")));
  EXPECT_EQ(diffs["status"], std::make_pair(std::string("past_due"), std::string("active")));
  EXPECT_EQ(diffs["cancel_at_period_end"],
            std::make_pair(std::string("false"), std::string("true")));
  EXPECT_EQ(diffs.size(), 3u);
  EXPECT_EQ(this->Stored("acme")->plan, domain::Plan::kPro);  // the dry run wrote nothing
  EXPECT_EQ(this->Audit("acme").front().action, "billing.event.applied");

  this->clock_.Advance(std::chrono::seconds(5));
  const ReconcileCounts run = this->reconciler_->Run({"acme", false}, this->operator_);
  EXPECT_EQ(run.changed, 1);
  EXPECT_EQ(run.diffs.size(), 3u);
  const auto stored = this->Stored("acme");
  EXPECT_EQ(stored->plan, domain::Plan::kFirm);
  EXPECT_EQ(stored->status, domain::SubscriptionStatus::kActive);
  EXPECT_TRUE(stored->cancel_at_period_end);
  const db::AuditEntry audit = this->Audit("acme").front();
  EXPECT_EQ(audit.action, "billing.subscription.reconciled");
  EXPECT_EQ(audit.actor, "ops@example.com");
  EXPECT_EQ(audit.target, "sub_1");
  const auto detail = nlohmann::json::parse(audit.detail);
  EXPECT_EQ(detail["diffs"].size(), 3u);

  // Nothing differs now.
  EXPECT_EQ(this->reconciler_->Run({"acme", false}, this->operator_).changed, 0);
  // An event created before the reconcile, delivered late, is older than what Stripe showed.
  spec.price = "price_pro_1";
  EXPECT_EQ(this->Deliver(Event("evt_late", "customer.subscription.updated", kNow - 10,
                                testing::SubscriptionObject(spec, ApiShape::kCurrent))),
            "stale");
  EXPECT_EQ(this->Stored("acme")->plan, domain::Plan::kFirm);

  try {
    this->reconciler_->Run({"nobody", false}, this->operator_);
    FAIL() << "expected kNotFound";
  } catch (const common::Error& e) {
    EXPECT_EQ(e.code(), common::ErrorCode::kNotFound);
  }
}

TYPED_TEST(CatchUpTest, ReconcileLeavesARowAWebhookChangedAfterStripeWasRead) {
  SubscriptionSpec spec;  // acme, sub_1, cus_1, active, pro
  ASSERT_EQ(this->Deliver(Event("evt_1", "customer.subscription.created", kNow - 1000,
                                testing::SubscriptionObject(spec, ApiShape::kCurrent))),
            "applied");
  spec.price = "price_firm_1";  // what Stripe answers: firm
  this->stripe_.subscriptions.push_back(testing::SubscriptionObject(spec, ApiShape::kCurrent));
  // While the answer is on its way, the customer moves to starter and its webhook lands.
  spec.price = "price_starter_1";
  const auto newer = Event("evt_2", "customer.subscription.updated", kNow + 1,
                           testing::SubscriptionObject(spec, ApiShape::kCurrent));
  this->stripe_.on_subscription_read = [&] {
    this->stripe_.on_subscription_read = nullptr;
    this->clock_.Advance(std::chrono::seconds(1));
    EXPECT_EQ(this->Deliver(newer), "applied");
  };
  const ReconcileCounts run = this->reconciler_->Run({"acme", false}, this->operator_);
  EXPECT_EQ(run.checked, 1);
  EXPECT_EQ(run.changed, 0);
  EXPECT_EQ(run.skipped, 1);
  EXPECT_EQ(this->Stored("acme")->plan, domain::Plan::kStarter);
  EXPECT_EQ(this->Stored("acme")->last_event_id, "evt_2");
  EXPECT_EQ(this->Audit("acme").front().action, "billing.event.applied");
}

TYPED_TEST(CatchUpTest, TheScheduleHoldsAcrossRestarts) {
  // Two jobs, each due hourly, looked at right after start-up.
  std::mutex mutex;
  std::vector<std::pair<db::Job, bool>> looks;
  Schedule schedule;
  schedule.sync_interval = std::chrono::hours(1);
  schedule.reconcile_interval = std::chrono::hours(1);
  schedule.first_look_within = std::chrono::seconds(0);
  schedule.looked_at = [&](db::Job job, bool ran) {
    std::lock_guard<std::mutex> hold(mutex);
    looks.emplace_back(job, ran);
  };
  db::JobLock lock(this->database_->parsed());
  const auto start = [&] {
    auto jobs = std::make_unique<CatchUpJobs>(*this->sync_, *this->reconciler_, lock, *this->db_,
                                              this->clock_, schedule);
    jobs->Start();
    return jobs;
  };
  const auto looked = [&](size_t n) {
    return testing::Eventually([&] {
      std::lock_guard<std::mutex> hold(mutex);
      return looks.size() >= n;
    });
  };
  const auto last_finished = [&](db::Job job) {
    std::optional<int64_t> at;
    this->db_->Read("t", [&](db::UnitOfWork& unit) { at = unit.events().LastFinished(job); });
    return at;
  };

  // Never run: both run at once and record it.
  auto jobs = start();
  ASSERT_TRUE(looked(2));
  jobs->Stop();
  EXPECT_EQ(looks[0], std::make_pair(db::Job::kEventSync, true));
  EXPECT_EQ(looks[1], std::make_pair(db::Job::kReconcile, true));
  EXPECT_EQ(last_finished(db::Job::kEventSync), kNow);
  EXPECT_EQ(last_finished(db::Job::kReconcile), kNow);

  // Restarted 40 minutes later: neither is due yet.
  this->clock_.Advance(std::chrono::minutes(40));
  jobs = start();
  ASSERT_TRUE(looked(4));
  jobs->Stop();
  EXPECT_FALSE(looks[2].second);
  EXPECT_FALSE(looks[3].second);

  // Restarted an hour after they ran: both run again.
  this->clock_.Advance(std::chrono::minutes(20));
  jobs = start();
  ASSERT_TRUE(looked(6));
  jobs->Stop();
  EXPECT_TRUE(looks[4].second);
  EXPECT_TRUE(looks[5].second);
  EXPECT_EQ(last_finished(db::Job::kReconcile), kNow + 3600);
}

TYPED_TEST(CatchUpTest, FullReconcileOutlastsRateLimitsPageByPage) {
  // Five tenants Paybell never heard of (every webhook lost), listed two to a page; every
  // second call of the list is refused as a 429 would be.
  for (int t = 0; t < 5; ++t) {
    SubscriptionSpec spec;
    spec.id = "sub_" + std::to_string(t);
    spec.customer = "cus_" + std::to_string(t);
    spec.tenant_id = "tenant-" + std::to_string(t);
    this->stripe_.subscriptions.push_back(testing::SubscriptionObject(spec, ApiShape::kCurrent));
  }
  this->stripe_.subscription_list_failures = 2;
  ReconcilePolicy policy;
  policy.page_size = 2;
  policy.patience.backoff_base = std::chrono::milliseconds(1);
  policy.patience.backoff_cap = std::chrono::milliseconds(4);
  Reconciler reconciler(this->stripe_, *this->ingestor_, *this->db_,
                        webhooks::PlanPrices{"price_starter_1", "price_pro_1", "price_firm_1"},
                        this->clock_, policy);
  const ReconcileCounts run = reconciler.Run({"", false}, this->operator_);
  EXPECT_EQ(run.pages, 3);
  EXPECT_EQ(run.checked, 5);
  EXPECT_EQ(run.changed, 5);
  EXPECT_EQ(this->stripe_.subscription_list_calls, 5);  // three pages, two of them asked twice
  for (int t = 0; t < 5; ++t) {
    const auto stored = this->Stored("tenant-" + std::to_string(t));
    ASSERT_TRUE(stored) << t;
    EXPECT_EQ(stored->stripe_subscription_id, "sub_" + std::to_string(t));
  }
}

TYPED_TEST(CatchUpTest, FullReconcileFindsUnrecordedTenantsAndRetriesTheirUnmatchedEvents) {
  // A payment failure for a customer Paybell never heard of: unmatched.
  testing::InvoiceSpec invoice;
  invoice.id = "in_9";
  invoice.subscription = "sub_9";
  invoice.customer = "cus_9";
  ASSERT_EQ(this->Deliver(Event("evt_fail", "invoice.payment_failed", kNow - 500,
                                testing::InvoiceObject(invoice, ApiShape::kCurrent))),
            "unmatched");
  // Stripe has the subscription (its checkout's webhooks were lost), tenant in its metadata.
  SubscriptionSpec beta;
  beta.id = "sub_9";
  beta.customer = "cus_9";
  beta.tenant_id = "beta";
  beta.price = "price_starter_1";
  beta.status = "past_due";
  this->stripe_.subscriptions.push_back(testing::SubscriptionObject(beta, ApiShape::kCurrent));
  // A subscription of no Paybell tenant is left alone.
  SubscriptionSpec stranger;
  stranger.id = "sub_x";
  stranger.customer = "cus_x";
  stranger.tenant_id = "";
  this->stripe_.subscriptions.push_back(testing::SubscriptionObject(stranger, ApiShape::kCurrent));

  const ReconcileCounts dry = this->reconciler_->Run({"", true}, this->operator_);
  EXPECT_EQ(dry.checked, 1);
  EXPECT_EQ(dry.changed, 1);
  EXPECT_EQ(dry.events_retried, 0);  // the tenant is only found once the row is written
  EXPECT_FALSE(this->Stored("beta"));

  const ReconcileCounts run = this->reconciler_->Run({"", false}, this->operator_);
  EXPECT_EQ(run.pages, 1);
  EXPECT_EQ(run.checked, 1);
  EXPECT_EQ(run.changed, 1);
  EXPECT_EQ(run.events_retried, 1);
  const auto stored = this->Stored("beta");
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->plan, domain::Plan::kStarter);
  EXPECT_EQ(stored->status, domain::SubscriptionStatus::kPastDue);
  EXPECT_EQ(stored->stripe_customer_id, "cus_9");
  std::optional<db::EventRecord> event;
  this->db_->Read("t",
                  [&](db::UnitOfWork& unit) { event = unit.events().Find("evt_fail", false); });
  EXPECT_EQ(event->outcome, domain::EventOutcome::kApplied);
  EXPECT_EQ(event->tenant_id, "beta");
  // Retried once: a second run finds nothing left to do.
  const ReconcileCounts again = this->reconciler_->Run({"", false}, this->operator_);
  EXPECT_EQ(again.changed, 0);
  EXPECT_EQ(again.events_retried, 0);
}

}  // namespace
}  // namespace paybell::catchup

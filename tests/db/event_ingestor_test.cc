// Webhook ingestion against real SQLite and PostgreSQL: storage, application, ordering,
// concurrency and replay, through EventIngestor exactly as the server runs it.
#include "server/webhooks/event_ingestor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "db/migrations.h"
#include "db/soci_database.h"
#include "server/common/error.h"
#include "tests/support/db_backends.h"
#include "tests/support/stripe_events.h"

namespace paybell::webhooks {
namespace {

using testing::ApiShape;
using testing::EngineNames;
using testing::Engines;
using testing::EngineTest;
using ::testing::HasSubstr;
using testing::InvoiceSpec;
using testing::SubscriptionSpec;

constexpr int64_t kNow = 1'800'001'000;
const std::string kSecret = "whsec_ingest_test";

// Records the billing notifications raised, as "tenant/event" ("tenant/event/trigger" for
// triggers other than payment_failed).
class RecordingSink final : public BillingNotifications {
 public:
  void Raise(db::UnitOfWork&, const std::string& tenant_id, const domain::TriggerEvent& trigger,
             const std::string& stripe_event_id) override {
    std::lock_guard<std::mutex> lock(mu_);
    const domain::Trigger kind = domain::TriggerOf(trigger);
    calls_.push_back(tenant_id + "/" + stripe_event_id +
                     (kind == domain::Trigger::kPaymentFailed
                          ? ""
                          : "/" + std::string(domain::TriggerWord(kind))));
  }
  std::vector<std::string> calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> calls_;
};

std::string Word(domain::EventOutcome o) { return std::string(domain::OutcomeWord(o)); }

// What a test checks of a delivery and of a stored row, in the words operators read.
struct Delivered {
  std::string event_id;
  std::string outcome;
};
struct SubscriptionWords {
  std::string tenant_id;
  std::string status;
  std::string plan;
  std::string stripe_customer_id;
  std::string stripe_subscription_id;
  std::string last_event_id;
  std::optional<int64_t> current_period_end;
  std::optional<int64_t> trial_end;
  std::optional<int64_t> canceled_at;
};

template <typename Engine>
class EventIngestorTest : public EngineTest<Engine> {
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
    ingestor_ = std::make_unique<EventIngestor>(*db_, config_, clock_, sink_);
  }

  Delivered Deliver(const std::string& payload) {
    const IngestResult r = ingestor_->Ingest(
        payload, testing::SignatureHeader(kSecret, clock_.NowUnix(), payload), "req-1");
    return {r.event_id, Word(r.outcome)};
  }

  std::string DeliverSubscription(const std::string& id, const std::string& type, int64_t created,
                                  const SubscriptionSpec& spec,
                                  ApiShape shape = ApiShape::kCurrent) {
    return Deliver(
               testing::EventPayload(id, type, created, testing::SubscriptionObject(spec, shape)))
        .outcome;
  }

  std::optional<SubscriptionWords> Subscription(const std::string& tenant) {
    std::optional<domain::Subscription> found;
    db_->Read("t", [&](db::UnitOfWork& unit) { found = unit.subscriptions().Find(tenant); });
    if (!found) return std::nullopt;
    return SubscriptionWords{found->tenant_id,
                             std::string(domain::StatusWord(found->status)),
                             std::string(domain::PlanWord(found->plan)),
                             found->stripe_customer_id,
                             found->stripe_subscription_id,
                             found->last_event_id,
                             found->current_period_end,
                             found->trial_end,
                             found->canceled_at};
  }

  db::EventRecord Event(const std::string& id) {
    std::optional<db::EventRecord> e;
    db_->Read("t", [&](db::UnitOfWork& unit) { e = unit.events().Find(id, true); });
    EXPECT_TRUE(e.has_value()) << id;
    return e.value_or(db::EventRecord{});
  }

  std::vector<db::AuditEntry> Audit(const std::string& tenant) {
    std::vector<db::AuditEntry> out;
    db_->Read("t", [&](db::UnitOfWork& unit) { out = unit.audit().ListForTenant(tenant, 100); });
    return out;
  }

  std::vector<db::EventRecord> List(const db::EventFilter& filter) {
    std::vector<db::EventRecord> out;
    db_->Read("t", [&](db::UnitOfWork& unit) { out = unit.events().List(filter); });
    return out;
  }

  std::optional<domain::Invoice> Invoice(const std::string& id) {
    std::optional<domain::Invoice> found;
    this->db_->Read("t", [&](db::UnitOfWork& unit) { found = unit.invoices().Find(id); });
    return found;
  }

  std::vector<domain::Invoice> Invoices(const std::string& tenant) {
    std::vector<domain::Invoice> out;
    this->db_->Read("t", [&](db::UnitOfWork& unit) {
      out = unit.invoices().ListForTenant(tenant, std::nullopt, 100);
    });
    return out;
  }

  std::string DeliverInvoice(const std::string& id, const std::string& type, int64_t created,
                             const InvoiceSpec& spec) {
    return Deliver(testing::EventPayload(id, type, created,
                                         testing::InvoiceObject(spec, ApiShape::kCurrent)))
        .outcome;
  }

  int CountEvents() {
    int n = 0;
    db_->pool().Run("t", [&](db::Connection& c) {
      c.session() << "SELECT COUNT(*) FROM billing_events", soci::into(n);
    });
    return n;
  }

  common::Config config_;
  common::FakeClock clock_{kNow};
  RecordingSink sink_;
  std::unique_ptr<db::SociDatabase> db_;
  std::unique_ptr<EventIngestor> ingestor_;
};
TYPED_TEST_SUITE(EventIngestorTest, Engines, EngineNames);

TYPED_TEST(EventIngestorTest, EveryHandledTypeOnBothApiShapes) {
  for (ApiShape shape : {ApiShape::kCurrent, ApiShape::kOlder}) {
    const std::string tag = shape == ApiShape::kCurrent ? "cur" : "old";
    SCOPED_TRACE(tag);
    const std::string tenant = "tenant_" + tag;
    SubscriptionSpec spec;
    spec.id = "sub_" + tag;
    spec.customer = "cus_" + tag;
    spec.tenant_id = tenant;

    // Checkout completes: the tenant is linked to its customer and subscription.
    EXPECT_EQ(this
                  ->Deliver(testing::EventPayload(
                      "evt_cs_" + tag, "checkout.session.completed", 100,
                      testing::CheckoutSessionObject("cs_" + tag, tenant, spec.customer, spec.id)))
                  .outcome,
              "applied");
    EXPECT_EQ(this->Subscription(tenant)->stripe_customer_id, spec.customer);

    spec.status = "trialing";
    spec.trial_end = 1'800'500'000;
    EXPECT_EQ(this->DeliverSubscription("evt_c_" + tag, "customer.subscription.created", 101, spec,
                                        shape),
              "applied");
    auto row = this->Subscription(tenant);
    EXPECT_EQ(row->status, "trialing");
    EXPECT_EQ(row->plan, "pro");
    EXPECT_EQ(row->trial_end, 1'800'500'000);
    EXPECT_EQ(row->current_period_end, 1'802'592'000);

    EXPECT_EQ(this->DeliverSubscription("evt_t_" + tag, "customer.subscription.trial_will_end", 102,
                                        spec, shape),
              "applied");
    EXPECT_THAT(this->sink_.calls(),
                ::testing::Contains(tenant + "/evt_t_" + tag + "/trial_ending"));
    spec.status = "active";
    spec.price = "price_firm_1";
    EXPECT_EQ(this->DeliverSubscription("evt_u_" + tag, "customer.subscription.updated", 103, spec,
                                        shape),
              "applied");
    EXPECT_EQ(this->Subscription(tenant)->plan, "firm");

    EXPECT_EQ(this->Deliver(testing::EventPayload(
                                "evt_pf_" + tag, "invoice.payment_failed", 104,
                                testing::InvoiceObject(spec.id, spec.customer, "", shape)))
                  .outcome,
              "applied");
    EXPECT_THAT(this->sink_.calls(), ::testing::Contains(tenant + "/evt_pf_" + tag));
    EXPECT_EQ(this->Event("evt_pf_" + tag).tenant_id, tenant);  // matched by the stored ids
    EXPECT_EQ(this->Deliver(testing::EventPayload(
                                "evt_ip_" + tag, "invoice.paid", 105,
                                testing::InvoiceObject(spec.id, spec.customer, tenant, shape)))
                  .outcome,
              "applied");

    spec.status = "paused";
    EXPECT_EQ(
        this->DeliverSubscription("evt_p_" + tag, "customer.subscription.paused", 106, spec, shape),
        "applied");
    EXPECT_EQ(this->Subscription(tenant)->status, "paused");
    spec.status = "active";
    EXPECT_EQ(this->DeliverSubscription("evt_r_" + tag, "customer.subscription.resumed", 107, spec,
                                        shape),
              "applied");
    spec.status = "canceled";
    spec.canceled_at = 1'800'000'900;
    EXPECT_EQ(this->DeliverSubscription("evt_d_" + tag, "customer.subscription.deleted", 108, spec,
                                        shape),
              "applied");
    row = this->Subscription(tenant);
    EXPECT_EQ(row->status, "canceled");
    EXPECT_EQ(row->canceled_at, 1'800'000'900);
    EXPECT_EQ(row->last_event_id, "evt_d_" + tag);

    // Every applied event left an audit row naming Stripe as the actor.
    const auto audit = this->Audit(tenant);
    EXPECT_EQ(audit.size(), 9u);
    for (const auto& entry : audit) {
      EXPECT_EQ(entry.actor, "stripe");
      EXPECT_EQ(entry.action, "billing.event.applied");
      EXPECT_EQ(entry.request_id, "req-1");
    }
  }
  EXPECT_EQ(this->sink_.calls().size(), 4u);  // per shape: trial ending, payment failed
}

TYPED_TEST(EventIngestorTest, OutOfOrderUpdatedAndDeleted) {
  SubscriptionSpec active;
  SubscriptionSpec canceled;
  canceled.status = "canceled";
  EXPECT_EQ(this->DeliverSubscription("evt_del", "customer.subscription.deleted", 300, canceled),
            "applied");
  // Stripe delivered the earlier update late.
  EXPECT_EQ(this->DeliverSubscription("evt_upd", "customer.subscription.updated", 250, active),
            "stale");
  // An update stamped the same second as the deletion still does not revive it.
  EXPECT_EQ(this->DeliverSubscription("evt_upd2", "customer.subscription.updated", 300, active),
            "stale");
  EXPECT_EQ(this->Subscription("acme")->status, "canceled");
  const auto stale = this->Event("evt_upd");
  EXPECT_EQ(Word(stale.outcome), "stale");
  EXPECT_EQ(stale.tenant_id, "acme");
  EXPECT_THAT(stale.error, HasSubstr("evt_del"));

  // The other order applies both.
  SubscriptionSpec other = active;
  other.id = "sub_9";
  other.tenant_id = "globex";
  EXPECT_EQ(this->DeliverSubscription("evt_9a", "customer.subscription.updated", 100, other),
            "applied");
  other.status = "canceled";
  EXPECT_EQ(this->DeliverSubscription("evt_9b", "customer.subscription.deleted", 200, other),
            "applied");
  EXPECT_EQ(this->Subscription("globex")->status, "canceled");
}

TYPED_TEST(EventIngestorTest, FiftyConcurrentDeliveriesOfOneEventApplyOnce) {
  const std::string payload =
      testing::EventPayload("evt_once", "customer.subscription.created", 100,
                            testing::SubscriptionObject(SubscriptionSpec{}, ApiShape::kCurrent));
  std::mutex mu;
  std::map<std::string, int> outcomes;
  std::vector<std::thread> threads;
  std::atomic<int> errors{0};
  for (int i = 0; i < 50; ++i) {
    threads.emplace_back([&] {
      try {
        const auto result = this->Deliver(payload);
        std::lock_guard<std::mutex> lock(mu);
        ++outcomes[result.outcome];
      } catch (const std::exception& e) {
        ++errors;
        ADD_FAILURE() << e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(outcomes["applied"], 1);
  EXPECT_EQ(outcomes["duplicate"], 49);
  EXPECT_EQ(this->CountEvents(), 1);
  EXPECT_EQ(this->Event("evt_once").duplicate_deliveries, 49);
  EXPECT_EQ(this->Audit("acme").size(), 1u);
  EXPECT_EQ(this->Subscription("acme")->status, "active");
}

TYPED_TEST(EventIngestorTest, ConcurrentFirstEventsOfNewTenantsLeaveThemActive) {
  // Stripe sends checkout.session.completed and customer.subscription.created together; for a
  // new tenant neither finds a row. Whatever the interleaving, the tenant ends active.
  constexpr int kTenants = 20;
  std::vector<std::thread> threads;
  std::atomic<int> errors{0};
  for (int i = 0; i < kTenants; ++i) {
    const std::string tenant = "new_" + std::to_string(i);
    SubscriptionSpec spec;
    spec.tenant_id = tenant;
    spec.id = "sub_" + tenant;
    spec.customer = "cus_" + tenant;
    const std::string created =
        testing::EventPayload("evt_c_" + tenant, "customer.subscription.created", 101,
                              testing::SubscriptionObject(spec, ApiShape::kCurrent));
    const std::string checkout = testing::EventPayload(
        "evt_cs_" + tenant, "checkout.session.completed", 100,
        testing::CheckoutSessionObject("cs_" + tenant, tenant, spec.customer, spec.id));
    for (const std::string& payload : {created, checkout}) {
      threads.emplace_back([this, payload, &errors] {
        try {
          EXPECT_EQ(this->Deliver(payload).outcome, "applied");
        } catch (const std::exception& e) {
          ++errors;
          ADD_FAILURE() << e.what();
        }
      });
    }
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  for (int i = 0; i < kTenants; ++i) {
    const auto row = this->Subscription("new_" + std::to_string(i));
    ASSERT_TRUE(row.has_value());
    EXPECT_EQ(row->status, "active") << row->tenant_id;
    EXPECT_EQ(row->stripe_customer_id, "cus_" + row->tenant_id);
  }
}

TYPED_TEST(EventIngestorTest, ManyEventsFromManyThreadsEndAsASequentialReplayWould) {
  // 20 tenants × 12 updates, delivered shuffled by 8 threads at once (so the group commit puts
  // several tenants and several events of one tenant in one transaction), a quarter of them
  // delivered twice. Each event is stored once; each tenant ends on its newest event, as a
  // sequential replay would leave it; every applied event has its one audit row.
  constexpr int kTenants = 20, kPerTenant = 12;
  std::vector<std::pair<std::string, std::string>> deliveries;  // event id, payload
  for (int t = 0; t < kTenants; ++t) {
    for (int k = 0; k < kPerTenant; ++k) {
      SubscriptionSpec spec;
      spec.tenant_id = "t" + std::to_string(t);
      spec.id = "sub_" + spec.tenant_id;
      spec.customer = "cus_" + spec.tenant_id;
      spec.status = k % 3 == 1 ? "past_due" : "active";
      spec.period_end = 1'802'592'000 + k;
      const std::string id = "evt_" + spec.tenant_id + "_" + std::to_string(k);
      deliveries.emplace_back(
          id, testing::EventPayload(id, "customer.subscription.updated", 1000 + k,
                                    testing::SubscriptionObject(spec, ApiShape::kCurrent)));
    }
  }
  const size_t distinct = deliveries.size();
  std::vector<std::string> twice;
  for (size_t i = 0; i < distinct; i += 4) {
    deliveries.push_back(deliveries[i]);
    twice.push_back(deliveries[i].first);
  }
  std::mt19937 random(11);
  std::shuffle(deliveries.begin(), deliveries.end(), random);

  std::atomic<size_t> next{0};
  std::mutex mu;
  std::map<std::string, int> outcomes;
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      for (size_t n; (n = next++) < deliveries.size();) {
        try {
          const auto result = this->Deliver(deliveries[n].second);
          std::lock_guard<std::mutex> lock(mu);
          ++outcomes[result.outcome];
        } catch (const std::exception& e) {
          ADD_FAILURE() << deliveries[n].first << ": " << e.what();
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(outcomes["duplicate"], static_cast<int>(deliveries.size() - distinct));
  EXPECT_EQ(outcomes["applied"] + outcomes["stale"], static_cast<int>(distinct));
  EXPECT_EQ(this->CountEvents(), static_cast<int>(distinct));
  int audited = 0;
  for (int t = 0; t < kTenants; ++t) {
    const std::string tenant = "t" + std::to_string(t);
    const auto row = this->Subscription(tenant);
    ASSERT_TRUE(row.has_value()) << tenant;
    EXPECT_EQ(row->last_event_id, "evt_" + tenant + "_" + std::to_string(kPerTenant - 1));
    EXPECT_EQ(row->current_period_end, 1'802'592'000 + kPerTenant - 1);
    EXPECT_EQ(row->status, (kPerTenant - 1) % 3 == 1 ? "past_due" : "active");
    audited += static_cast<int>(this->Audit(tenant).size());
  }
  EXPECT_EQ(audited, outcomes["applied"]);
  for (const std::string& id : twice) EXPECT_EQ(this->Event(id).duplicate_deliveries, 1) << id;
}

TYPED_TEST(EventIngestorTest, ReplayKeepsTheRecordThatAnEventWasApplied) {
  SubscriptionSpec spec;
  EXPECT_EQ(this->DeliverSubscription("evt_1", "customer.subscription.updated", 100, spec),
            "applied");
  EXPECT_EQ(this->DeliverSubscription("evt_2", "customer.subscription.updated", 200, spec),
            "applied");
  const auto replayed = this->ingestor_->Replay("evt_1", {"ops", "operator", ""});
  EXPECT_EQ(Word(replayed.outcome), "applied");
  EXPECT_THAT(replayed.error, HasSubstr("stale"));
  EXPECT_EQ(this->Subscription("acme")->last_event_id, "evt_2");
}

TYPED_TEST(EventIngestorTest, UnknownTenantIsStoredUnmatchedAndReplayFixesIt) {
  SubscriptionSpec orphan;
  orphan.tenant_id = "";
  orphan.customer = "cus_orphan";
  orphan.id = "sub_orphan";
  EXPECT_EQ(this->DeliverSubscription("evt_orphan", "customer.subscription.updated", 100, orphan),
            "unmatched");
  auto stored = this->Event("evt_orphan");
  EXPECT_EQ(Word(stored.outcome), "unmatched");
  EXPECT_EQ(stored.tenant_id, "");
  EXPECT_THAT(stored.error, HasSubstr("cus_orphan"));

  // The checkout that links the customer arrives afterwards; the operator replays.
  EXPECT_EQ(this->Deliver(testing::EventPayload("evt_cs", "checkout.session.completed", 90,
                                                testing::CheckoutSessionObject(
                                                    "cs_1", "initech", "cus_orphan", "sub_orphan")))
                .outcome,
            "applied");
  this->clock_.Advance(std::chrono::seconds(60));
  const db::EventRecord replayed =
      this->ingestor_->Replay("evt_orphan", {"ops@paybell", "operator", "req-2"});
  EXPECT_EQ(Word(replayed.outcome), "applied");
  EXPECT_EQ(replayed.tenant_id, "initech");
  EXPECT_EQ(replayed.replay_count, 1);
  EXPECT_EQ(this->Subscription("initech")->status, "active");
  const auto audit = this->Audit("initech");
  ASSERT_FALSE(audit.empty());
  EXPECT_EQ(audit.front().action, "billing.event.replayed");
  EXPECT_EQ(audit.front().actor, "ops@paybell");
  EXPECT_EQ(audit.front().request_id, "req-2");
}

// Money moved: a second paid checkout for a tenant that already pays is an operator's problem,
// not a routine stale event.
TYPED_TEST(EventIngestorTest, APaidCheckoutOnALiveTenantIsFailedAndAudited) {
  SubscriptionSpec spec;
  ASSERT_EQ(this->DeliverSubscription("evt_1", "customer.subscription.created", 100, spec),
            "applied");
  EXPECT_EQ(this->Deliver(testing::EventPayload(
                              "evt_cs_2", "checkout.session.completed", 200,
                              testing::CheckoutSessionObject("cs_2", "acme", "cus_1", "sub_2")))
                .outcome,
            "failed");
  const db::EventRecord stored = this->Event("evt_cs_2");
  EXPECT_EQ(Word(stored.outcome), "failed");
  EXPECT_EQ(stored.tenant_id, "acme");
  EXPECT_THAT(stored.error, HasSubstr("sub_1"));
  EXPECT_THAT(stored.error, HasSubstr("sub_2"));
  EXPECT_THAT(stored.error, HasSubstr("billed twice"));
  EXPECT_EQ(this->Subscription("acme")->stripe_subscription_id, "sub_1");
  const auto audit = this->Audit("acme");
  ASSERT_FALSE(audit.empty());
  EXPECT_EQ(audit.front().action, "billing.subscription.conflict");
  EXPECT_EQ(audit.front().target, "evt_cs_2");
  EXPECT_THAT(audit.front().detail, HasSubstr("sub_2"));
}

// What the conflict's error tells the operator to do works: cancel one, replay the other's
// newest event.
TYPED_TEST(EventIngestorTest, AfterAConflictTheOperatorCancelsOneAndReplaysTheOther) {
  SubscriptionSpec first;
  ASSERT_EQ(this->DeliverSubscription("evt_1", "customer.subscription.created", 100, first),
            "applied");
  SubscriptionSpec second;
  second.id = "sub_2";
  second.price = "price_firm_1";
  ASSERT_EQ(this->DeliverSubscription("evt_2", "customer.subscription.created", 200, second),
            "failed");
  SubscriptionSpec canceled = first;
  canceled.status = "canceled";
  ASSERT_EQ(this->DeliverSubscription("evt_3", "customer.subscription.deleted", 300, canceled),
            "applied");
  const db::EventRecord replayed = this->ingestor_->Replay("evt_2", {"ops", "operator", ""});
  EXPECT_EQ(Word(replayed.outcome), "applied") << replayed.error;
  const auto row = this->Subscription("acme");
  EXPECT_EQ(row->stripe_subscription_id, "sub_2");
  EXPECT_EQ(row->status, "active");
  EXPECT_EQ(row->plan, "firm");
}

// A replay is not a way to bring back an old subscription: an event that is not the newest
// stored one of its subscription is held to the usual ordering.
TYPED_TEST(EventIngestorTest, ReplayingAnOldEventOfAFinishedSubscriptionChangesNothing) {
  SubscriptionSpec old_one;
  old_one.id = "sub_0";
  ASSERT_EQ(this->DeliverSubscription("evt_0a", "customer.subscription.created", 100, old_one),
            "applied");
  old_one.status = "canceled";
  ASSERT_EQ(this->DeliverSubscription("evt_0b", "customer.subscription.deleted", 150, old_one),
            "applied");
  SubscriptionSpec later;
  later.id = "sub_2";
  ASSERT_EQ(this->DeliverSubscription("evt_2a", "customer.subscription.created", 200, later),
            "applied");
  later.status = "canceled";
  ASSERT_EQ(this->DeliverSubscription("evt_2b", "customer.subscription.deleted", 250, later),
            "applied");
  const db::EventRecord replayed = this->ingestor_->Replay("evt_0a", {"ops", "operator", ""});
  EXPECT_THAT(replayed.error, HasSubstr("stale"));
  const auto row = this->Subscription("acme");
  EXPECT_EQ(row->stripe_subscription_id, "sub_2");
  EXPECT_EQ(row->status, "canceled");
}

TYPED_TEST(EventIngestorTest, APortalUpgradeChangesThePlan) {
  SubscriptionSpec starter;
  starter.plan = "starter";
  starter.price = "price_starter_1";
  ASSERT_EQ(this->DeliverSubscription("evt_1", "customer.subscription.created", 100, starter),
            "applied");
  EXPECT_EQ(this->Subscription("acme")->plan, "starter");
  SubscriptionSpec upgraded = starter;  // the portal changes the price, not the metadata
  upgraded.price = "price_pro_1";
  ASSERT_EQ(this->DeliverSubscription("evt_2", "customer.subscription.updated", 200, upgraded),
            "applied");
  EXPECT_EQ(this->Subscription("acme")->plan, "pro");
}

TYPED_TEST(EventIngestorTest, ReplayOfAnUnknownEventIsNotFound) {
  try {
    this->ingestor_->Replay("evt_missing", {"ops", "operator", ""});
    FAIL() << "replayed nothing";
  } catch (const common::Error& e) {
    EXPECT_EQ(e.code(), common::ErrorCode::kNotFound);
  }
}

TYPED_TEST(EventIngestorTest, UnhandledTypeIsIgnoredButStored) {
  EXPECT_EQ(this->Deliver(testing::EventPayload("evt_x", "customer.created", 1,
                                                {{"id", "cus_1"}, {"object", "customer"}}))
                .outcome,
            "ignored");
  EXPECT_EQ(Word(this->Event("evt_x").outcome), "ignored");
  EXPECT_FALSE(this->Subscription("acme").has_value());
}

TYPED_TEST(EventIngestorTest, RefusedDeliveriesStoreNothing) {
  const std::string payload =
      testing::EventPayload("evt_1", "customer.subscription.created", 1,
                            testing::SubscriptionObject(SubscriptionSpec{}, ApiShape::kCurrent));
  for (const std::string& header :
       {std::string(""), testing::SignatureHeader("whsec_wrong", kNow, payload),
        testing::SignatureHeader(kSecret, kNow - 301, payload)}) {
    try {
      this->ingestor_->Ingest(payload, header, "");
      ADD_FAILURE() << "accepted " << header;
    } catch (const common::Error& e) {
      EXPECT_EQ(e.code(), common::ErrorCode::kInvalidArgument);
    }
  }
  try {
    this->ingestor_->Ingest("not json", testing::SignatureHeader(kSecret, kNow, "not json"), "");
    ADD_FAILURE() << "accepted non-JSON";
  } catch (const common::Error& e) {
    EXPECT_EQ(e.code(), common::ErrorCode::kInvalidArgument);
    EXPECT_THAT(e.what(), HasSubstr("malformed"));
  }
  EXPECT_EQ(this->CountEvents(), 0);
}

// The HTTP route refuses bodies over 1 MiB; IngestStripeEvent over gRPC holds the same limit,
// also for a correctly signed payload.
TYPED_TEST(EventIngestorTest, APayloadOverOneMebibyteIsRefusedOnEveryPath) {
  nlohmann::json object = testing::SubscriptionObject(SubscriptionSpec{}, ApiShape::kCurrent);
  object["metadata"]["padding"] = std::string(1 << 20, 'x');
  const std::string payload =
      testing::EventPayload("evt_big", "customer.subscription.created", 1, object);
  ASSERT_GT(payload.size(), 1u << 20);
  try {
    this->Deliver(payload);
    ADD_FAILURE() << "a payload over 1 MiB was stored";
  } catch (const common::Error& e) {
    EXPECT_EQ(e.code(), common::ErrorCode::kInvalidArgument);
    EXPECT_THAT(e.what(), HasSubstr("1 MiB"));
  }
  EXPECT_EQ(this->CountEvents(), 0);
}

// Signed events with times no real event carries are malformed: nothing stored, and a far-future
// `created` cannot make every later real event stale.
TYPED_TEST(EventIngestorTest, AbsurdTimesAreRefusedAsMalformed) {
  for (const int64_t created : {int64_t{-1}, int64_t{0}, kNow + 301, int64_t{32503680000}}) {
    SCOPED_TRACE(created);
    const std::string payload =
        testing::EventPayload("evt_t", "customer.subscription.updated", created,
                              testing::SubscriptionObject(SubscriptionSpec{}, ApiShape::kCurrent));
    try {
      this->Deliver(payload);
      ADD_FAILURE() << "stored";
    } catch (const common::Error& e) {
      EXPECT_EQ(e.code(), common::ErrorCode::kInvalidArgument);
      EXPECT_THAT(e.what(), HasSubstr("created"));
    }
  }
  nlohmann::json object = testing::SubscriptionObject(SubscriptionSpec{}, ApiShape::kCurrent);
  object["items"]["data"][0]["current_period_end"] = INT64_MAX;
  object["current_period_end"] = INT64_MAX;
  try {
    this->Deliver(testing::EventPayload("evt_p", "customer.subscription.updated", kNow, object));
    ADD_FAILURE() << "stored a period end at INT64_MAX";
  } catch (const common::Error& e) {
    EXPECT_EQ(e.code(), common::ErrorCode::kInvalidArgument);
    EXPECT_THAT(e.what(), HasSubstr("current_period_end"));
  }
  EXPECT_EQ(this->CountEvents(), 0);
  // A real one, created within the tolerance of now, still applies.
  EXPECT_EQ(this->DeliverSubscription("evt_ok", "customer.subscription.updated", kNow + 60,
                                      SubscriptionSpec{}),
            "applied");
}

TYPED_TEST(EventIngestorTest, NoSecretConfiguredRefusesEverythingAsRetryable) {
  common::Config no_secret;
  EventIngestor ingestor(*this->db_, no_secret, this->clock_, this->sink_);
  try {
    ingestor.Ingest("{}", "t=1,v1=00", "");
    FAIL() << "accepted without a secret";
  } catch (const common::Error& e) {
    EXPECT_EQ(e.code(), common::ErrorCode::kUnavailable);
  }
}

TYPED_TEST(EventIngestorTest, ListsEventsNewestFirstWithFiltersAndPages) {
  SubscriptionSpec spec;
  for (int i = 0; i < 5; ++i) {
    this->clock_.Advance(std::chrono::seconds(1));
    this->DeliverSubscription("evt_" + std::to_string(i), "customer.subscription.updated", 100 + i,
                              spec);
  }
  this->Deliver(testing::EventPayload("evt_ign", "customer.created", 1, {{"id", "cus_1"}}));
  std::vector<db::EventRecord> page;
  db::EventFilter filter;
  filter.tenant_id = "acme";
  filter.limit = 3;
  page = this->List(filter);
  ASSERT_EQ(page.size(), 3u);
  EXPECT_EQ(page[0].event_id, "evt_4");
  EXPECT_TRUE(page[0].payload.empty());
  filter.before = std::make_pair(page.back().received_at, page.back().event_id);
  page = this->List(filter);
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[1].event_id, "evt_0");

  db::EventFilter ignored;
  ignored.outcome = domain::EventOutcome::kIgnored;
  page = this->List(ignored);
  ASSERT_EQ(page.size(), 1u);
  EXPECT_EQ(page[0].event_id, "evt_ign");
}

std::string Word(domain::InvoiceStatus s) { return std::string(domain::InvoiceStatusWord(s)); }

// Stripe delivers out of order: finalized, paid, then a payment failure from before the
// payment. The invoice ends paid, with the paid event's amounts; the failure still told the
// owners (as before invoices were stored), and a late finalized changes nothing.
TYPED_TEST(EventIngestorTest, InvoicesAreRecordedAndTheNewestEventWins) {
  ASSERT_EQ(
      this->DeliverSubscription("evt_s", "customer.subscription.created", 100, SubscriptionSpec{}),
      "applied");
  InvoiceSpec spec;  // no metadata: found by the stored customer and subscription ids
  spec.created = 1'800'000'090;
  ASSERT_EQ(this->DeliverInvoice("evt_fin", "invoice.finalized", 110, spec), "applied");
  auto row = this->Invoice("in_1");
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->tenant_id, "acme");
  EXPECT_EQ(Word(row->status), "open");

  InvoiceSpec paid = spec;
  paid.status = "paid";
  paid.amount_paid = 4900;
  ASSERT_EQ(this->DeliverInvoice("evt_paid", "invoice.paid", 130, paid), "applied");
  ASSERT_EQ(this->DeliverInvoice("evt_failed", "invoice.payment_failed", 120, spec), "applied");
  EXPECT_THAT(this->sink_.calls(), ::testing::Contains("acme/evt_failed"));
  EXPECT_EQ(this->DeliverInvoice("evt_fin_late", "invoice.finalized", 105, spec), "stale");
  EXPECT_THAT(this->Event("evt_fin_late").error, HasSubstr("evt_paid"));

  row = this->Invoice("in_1");
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(Word(row->status), "paid");
  EXPECT_EQ(row->amount_due, 4900);
  EXPECT_EQ(row->amount_paid, 4900);
  EXPECT_EQ(row->currency, "usd");
  EXPECT_EQ(row->number, "ACME-0001");
  EXPECT_EQ(row->created, 1'800'000'090);
  EXPECT_EQ(row->period_start, 1'800'000'000);
  EXPECT_EQ(row->period_end, 1'802'592'000);
  EXPECT_EQ(row->stripe_subscription_id, "sub_1");
  EXPECT_EQ(row->last_event_id, "evt_paid");
  EXPECT_EQ(row->last_event_created, 130);
  EXPECT_EQ(row->hosted_invoice_url, "https://invoice.stripe.com/i/acct_1/test_in_1");
  EXPECT_EQ(row->invoice_pdf, "https://pay.stripe.com/invoice/acct_1/test_in_1/pdf");

  // The applied event's audit entry names the invoice.
  const auto audit = this->Audit("acme");
  ASSERT_FALSE(audit.empty());
  EXPECT_EQ(audit.front().target, "evt_failed");
  EXPECT_THAT(audit.front().detail, HasSubstr("\"invoice\":\"in_1\""));

  // Voiding later wins again; the subscription was never touched by any of it.
  InvoiceSpec voided = spec;
  voided.status = "void";
  EXPECT_EQ(this->DeliverInvoice("evt_void", "invoice.voided", 140, voided), "applied");
  EXPECT_EQ(Word(this->Invoice("in_1")->status), "void");
  EXPECT_EQ(this->Subscription("acme")->last_event_id, "evt_s");
  EXPECT_EQ(this->Subscription("acme")->status, "active");
}

TYPED_TEST(EventIngestorTest, DuplicateInvoiceEventsApplyOnce) {
  InvoiceSpec spec;
  spec.tenant_id = "acme";
  spec.status = "paid";
  spec.amount_paid = 4900;
  const std::string payload = testing::EventPayload(
      "evt_paid", "invoice.paid", 130, testing::InvoiceObject(spec, ApiShape::kCurrent));
  EXPECT_EQ(this->Deliver(payload).outcome, "applied");
  const auto first = this->Invoice("in_1");
  this->clock_.Advance(std::chrono::seconds(30));
  EXPECT_EQ(this->Deliver(payload).outcome, "duplicate");
  EXPECT_EQ(this->Invoice("in_1"), first);  // not even updated_at moved
  EXPECT_EQ(this->Event("evt_paid").duplicate_deliveries, 1);
  EXPECT_EQ(this->Invoices("acme").size(), 1u);
}

TYPED_TEST(EventIngestorTest, EachTenantHasItsOwnInvoices) {
  InvoiceSpec acme;
  acme.tenant_id = "acme";
  acme.id = "in_acme_1";
  ASSERT_EQ(this->DeliverInvoice("evt_a1", "invoice.finalized", 110, acme), "applied");
  acme.id = "in_acme_2";
  acme.created = 1'800'000'500;
  ASSERT_EQ(this->DeliverInvoice("evt_a2", "invoice.finalized", 111, acme), "applied");
  InvoiceSpec initech;
  initech.tenant_id = "initech";
  initech.id = "in_initech_1";
  initech.subscription = "sub_9";
  initech.customer = "cus_9";
  initech.amount_due = 9900;
  ASSERT_EQ(this->DeliverInvoice("evt_i1", "invoice.finalized", 112, initech), "applied");

  const auto acme_rows = this->Invoices("acme");
  ASSERT_EQ(acme_rows.size(), 2u);
  EXPECT_EQ(acme_rows[0].invoice_id, "in_acme_2");  // newest first
  EXPECT_EQ(acme_rows[1].invoice_id, "in_acme_1");
  const auto initech_rows = this->Invoices("initech");
  ASSERT_EQ(initech_rows.size(), 1u);
  EXPECT_EQ(initech_rows[0].invoice_id, "in_initech_1");
  EXPECT_EQ(initech_rows[0].amount_due, 9900);
  EXPECT_EQ(this->Event("evt_i1").tenant_id, "initech");
}

TYPED_TEST(EventIngestorTest, UnmatchedOrUnusableInvoiceEventsRecordNoInvoice) {
  InvoiceSpec orphan;
  orphan.customer = "cus_unknown";
  orphan.subscription = "sub_unknown";
  EXPECT_EQ(this->DeliverInvoice("evt_o", "invoice.finalized", 110, orphan), "unmatched");
  EXPECT_FALSE(this->Invoice("in_1").has_value());

  InvoiceSpec odd;
  odd.tenant_id = "acme";
  odd.status = "refunded";
  EXPECT_EQ(this->DeliverInvoice("evt_f", "invoice.payment_failed", 111, odd), "failed");
  EXPECT_THAT(this->Event("evt_f").error, HasSubstr("unknown invoice status"));
  EXPECT_FALSE(this->Invoice("in_1").has_value());
  EXPECT_THAT(this->sink_.calls(), ::testing::IsEmpty());
}

}  // namespace
}  // namespace paybell::webhooks

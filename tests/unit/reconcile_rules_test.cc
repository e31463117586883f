// Reconcile's pure rules: which of a tenant's Stripe subscriptions to follow, and what the
// comparison with the stored row changes.
#include "server/catchup/reconcile_rules.h"

#include <gtest/gtest.h>

#include "server/catchup/runners.h"
#include "tests/support/stripe_events.h"
#include "tools/paybellctl/since.h"

namespace paybell::catchup {
namespace {

using testing::ApiShape;
using testing::SubscriptionSpec;

const webhooks::PlanPrices kPrices{"price_starter_1", "price_pro_1", "price_firm_1"};
constexpr int64_t kAt = 1'800'100'000;

nlohmann::json Sub(const std::string& id, const std::string& status, int64_t created) {
  SubscriptionSpec spec;
  spec.id = id;
  spec.status = status;
  nlohmann::json object = testing::SubscriptionObject(spec, ApiShape::kCurrent);
  object["created"] = created;
  return object;
}

std::string Id(const nlohmann::json* object) { return object ? object->value("id", "") : "-"; }

TEST(PickSubscription, FollowsTheRecordedOneWhileLiveElseTheNewestLive) {
  const std::vector<nlohmann::json> both_live = {Sub("sub_old", "active", 10),
                                                 Sub("sub_new", "active", 20)};
  EXPECT_EQ(Id(PickSubscription(both_live, "sub_old")), "sub_old");
  EXPECT_EQ(Id(PickSubscription(both_live, "")), "sub_new");
  const std::vector<nlohmann::json> recorded_ended = {Sub("sub_old", "canceled", 10),
                                                      Sub("sub_new", "trialing", 5)};
  EXPECT_EQ(Id(PickSubscription(recorded_ended, "sub_old")), "sub_new");
  const std::vector<nlohmann::json> none_live = {Sub("sub_a", "canceled", 10),
                                                 Sub("sub_b", "incomplete_expired", 20)};
  EXPECT_EQ(Id(PickSubscription(none_live, "sub_a")), "sub_a");
  EXPECT_EQ(Id(PickSubscription(none_live, "")), "sub_b");
  EXPECT_EQ(PickSubscription({}, "sub_a"), nullptr);
}

domain::Subscription StoredPro() {
  domain::Subscription row;
  row.tenant_id = "acme";
  row.stripe_customer_id = "cus_1";
  row.stripe_subscription_id = "sub_1";
  row.plan = domain::Plan::kPro;
  row.status = domain::SubscriptionStatus::kActive;
  row.current_period_start = 1'800'000'000;
  row.current_period_end = 1'802'592'000;
  row.last_event_created = kAt - 100;
  row.last_event_id = "evt_9";
  row.created_at = 5;
  return row;
}

TEST(DecideReconcile, NothingDiffersNothingIsWritten) {
  const auto fetched =
      SubscriptionAsEvent(testing::SubscriptionObject({}, ApiShape::kCurrent), kAt);
  const ReconcileDecision d = DecideReconcile("acme", StoredPro(), fetched, kPrices, kAt, kAt + 1);
  EXPECT_TRUE(d.error.empty());
  EXPECT_TRUE(d.diffs.empty());
  EXPECT_FALSE(d.write);
}

TEST(DecideReconcile, TakesStripesStateEvenOverAStoredCancel) {
  domain::Subscription stored = StoredPro();
  stored.status = domain::SubscriptionStatus::kCanceled;
  SubscriptionSpec spec;
  spec.price = "price_firm_1";
  spec.trial_end = 1'800'500'000;
  const auto fetched =
      SubscriptionAsEvent(testing::SubscriptionObject(spec, ApiShape::kOlder), kAt);
  const ReconcileDecision d = DecideReconcile("acme", stored, fetched, kPrices, kAt, kAt + 1);
  ASSERT_TRUE(d.write);
  EXPECT_EQ(d.write->status, domain::SubscriptionStatus::kActive);
  EXPECT_EQ(d.write->plan, domain::Plan::kFirm);
  EXPECT_EQ(d.write->last_event_created, kAt);
  EXPECT_EQ(d.write->last_event_id, "reconcile@2027-01-16T11:46:40Z");
  EXPECT_EQ(d.write->created_at, 5);
  std::map<std::string, std::pair<std::string, std::string>> diffs;
  for (const FieldDiff& diff : d.diffs) diffs[diff.field] = {diff.before, diff.after};
  EXPECT_EQ(diffs.size(), 3u);
  EXPECT_EQ(diffs["status"], std::make_pair(std::string("canceled"), std::string("active")));
  EXPECT_EQ(diffs["plan"], std::make_pair(std::string("pro"), std::string("firm")));
  EXPECT_EQ(diffs["trial_end"],
            std::make_pair(std::string(""), std::string("2027-01-21T02:53:20Z")));
}

TEST(DecideReconcile, LeavesARowAnEventNewerThanTheFetchHasWritten) {
  domain::Subscription stored = StoredPro();
  stored.plan = domain::Plan::kStarter;  // differs from the fetched object (pro)
  const auto fetched =
      SubscriptionAsEvent(testing::SubscriptionObject({}, ApiShape::kCurrent), kAt);
  for (const int64_t created : {kAt, kAt + 50}) {  // created as the fetch began, or after it
    stored.last_event_created = created;
    const ReconcileDecision d = DecideReconcile("acme", stored, fetched, kPrices, kAt, kAt + 1);
    EXPECT_FALSE(d.write);
    EXPECT_EQ(d.skipped, "changed by evt_9 since Stripe was read");
  }
  stored.last_event_created = kAt - 1;  // older than the fetch: Stripe's object wins
  const ReconcileDecision d = DecideReconcile("acme", stored, fetched, kPrices, kAt, kAt + 1);
  ASSERT_TRUE(d.write);
  EXPECT_EQ(d.write->plan, domain::Plan::kPro);
  EXPECT_EQ(d.write->last_event_created, kAt);
}

TEST(DecideReconcile, ATenantWithNoRowGetsOne) {
  const auto fetched =
      SubscriptionAsEvent(testing::SubscriptionObject({}, ApiShape::kCurrent), kAt);
  const ReconcileDecision d = DecideReconcile("acme", std::nullopt, fetched, kPrices, kAt, kAt + 1);
  ASSERT_TRUE(d.write);
  EXPECT_EQ(d.write->tenant_id, "acme");
  EXPECT_EQ(d.write->stripe_customer_id, "cus_1");
  EXPECT_EQ(d.write->created_at, kAt + 1);
  EXPECT_EQ(d.diffs.front().before, "");
}

TEST(DecideReconcile, AnUnknownStatusDecidesNothing) {
  SubscriptionSpec spec;
  spec.status = "frobnicated";
  const auto fetched =
      SubscriptionAsEvent(testing::SubscriptionObject(spec, ApiShape::kCurrent), kAt);
  const ReconcileDecision d = DecideReconcile("acme", StoredPro(), fetched, kPrices, kAt, kAt + 1);
  EXPECT_EQ(d.error, "unknown subscription status 'frobnicated' at Stripe");
  EXPECT_FALSE(d.write);
}

TEST(IsStripeSubscriptionId, OnlyWhatStripeMakes) {
  EXPECT_TRUE(IsStripeSubscriptionId("sub_1NxYz_abc"));
  for (const char* bad : {"", "sub_", "cus_1", "sub_1/../../v1/charges", "sub_1?expand=x",
                          "sub_1%2F", "SUB_1", "sub_1 "}) {
    EXPECT_FALSE(IsStripeSubscriptionId(bad)) << bad;
  }
  EXPECT_FALSE(IsStripeSubscriptionId("sub_" + std::string(300, 'a')));
}

TEST(ReconcileAnswer, CarriesAtMostAThousandDiffsAndProgressNone) {
  ReconcileCounts counts;
  counts.checked = 1500;
  counts.changed = 1500;
  for (int i = 0; i < 1500; ++i) {
    counts.diffs.push_back({"tenant-" + std::to_string(i), "plan", "pro", "firm"});
  }
  const auto answer = ToProto(counts, /*with_diffs=*/true);
  EXPECT_EQ(answer.diffs_size(), 1000);
  EXPECT_EQ(answer.diffs_omitted(), 500);
  EXPECT_EQ(answer.diffs(999).tenant_id(), "tenant-999");
  const auto progress = ToProto(counts, /*with_diffs=*/false);
  EXPECT_EQ(progress.diffs_size(), 0);
  EXPECT_EQ(progress.changed(), 1500);
}

TEST(SubscriptionAsEvent, RefusesWhatIsNotASubscription) {
  EXPECT_THROW(SubscriptionAsEvent({{"object", "customer"}, {"id", "cus_1"}}, kAt),
               webhooks::MalformedEvent);
  EXPECT_THROW(SubscriptionAsEvent(nlohmann::json::array(), kAt), webhooks::MalformedEvent);
}

TEST(ParseSince, DurationsAndDates) {
  constexpr int64_t now = 1'800'000'000;
  EXPECT_EQ(ctl::ParseSince("2d", now), now - 2 * 86400);
  EXPECT_EQ(ctl::ParseSince("36h", now), now - 36 * 3600);
  EXPECT_EQ(ctl::ParseSince("90m", now), now - 90 * 60);
  EXPECT_EQ(ctl::ParseSince("600s", now), now - 600);
  EXPECT_EQ(ctl::ParseSince("2026-11-28", now), 1'795'824'000);
  for (const char* bad :
       {"", "d", "2", "2w", "-2d", "2.5h", "2026-13-01", "2026-11-28x", "99999999d"}) {
    EXPECT_FALSE(ctl::ParseSince(bad, now)) << bad;
  }
}

}  // namespace
}  // namespace paybell::catchup

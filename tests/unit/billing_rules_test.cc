#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <utility>

#include "server/billing/billing_config.h"
#include "server/billing/checkout.h"
#include "server/billing/proto_mapping.h"
#include "server/common/config.h"
#include "server/common/error.h"
#include "server/common/pagination.h"

namespace paybell::billing {
namespace {

TEST(DomainWordsTest, StatusWordsRoundTrip) {
  for (const char* word : {"active", "trialing", "past_due", "canceled", "unpaid", "incomplete",
                           "incomplete_expired", "paused"}) {
    const auto status = domain::StatusFromWord(word);
    ASSERT_TRUE(status.has_value()) << word;
    EXPECT_EQ(domain::StatusWord(*status), word);
    EXPECT_NE(ToProto(*status), v1::SUBSCRIPTION_STATUS_UNSPECIFIED) << word;
    EXPECT_EQ(StatusFromProto(ToProto(*status)), status);
  }
  EXPECT_FALSE(domain::StatusFromWord("bogus").has_value());
  EXPECT_FALSE(StatusFromProto(v1::SUBSCRIPTION_STATUS_NONE).has_value());
}

TEST(DomainWordsTest, PlanWordsRoundTrip) {
  EXPECT_EQ(domain::PlanFromWord("pro"), domain::Plan::kPro);
  EXPECT_EQ(domain::PlanWord(domain::Plan::kFirm), "firm");
  EXPECT_EQ(domain::PlanFromWord(""), domain::Plan::kNone);
  EXPECT_FALSE(domain::PlanFromWord("Pro").has_value());
  EXPECT_EQ(domain::PlanWord(domain::Plan::kNone), "");
  EXPECT_EQ(PlanFromProto(v1::PLAN_PRO), domain::Plan::kPro);
  EXPECT_FALSE(PlanFromProto(v1::PLAN_UNSPECIFIED).has_value());
}

TEST(DomainWordsTest, OutcomeWordsRoundTrip) {
  for (const char* word : {"applied", "duplicate", "stale", "ignored", "unmatched", "failed"}) {
    const auto outcome = domain::OutcomeFromWord(word);
    ASSERT_TRUE(outcome.has_value()) << word;
    EXPECT_EQ(domain::OutcomeWord(*outcome), word);
  }
  EXPECT_FALSE(domain::OutcomeFromWord("Applied").has_value());
}

TEST(SubscriptionRulesTest, Entitlement) {
  using S = domain::SubscriptionStatus;
  for (const S status : domain::kAllStatuses) {
    const bool expected = status == S::kActive || status == S::kTrialing || status == S::kPastDue;
    EXPECT_EQ(domain::IsEntitled(status), expected) << domain::StatusWord(status);
  }
}

// One definition of "live" for checkout and the webhook rules, over every status: a live
// subscription blocks a new checkout (and may not be replaced by a second one:
// event_rules_test); only canceled and incomplete_expired, which Stripe never leaves, do not.
TEST(SubscriptionRulesTest, WhichStatusesBlockANewCheckout) {
  using S = domain::SubscriptionStatus;
  const std::pair<S, bool> kBlocks[] = {
      {S::kActive, true},    {S::kTrialing, true},
      {S::kPastDue, true},   {S::kUnpaid, true},
      {S::kPaused, true},    {S::kIncomplete, true},
      {S::kCanceled, false}, {S::kIncompleteExpired, false},
  };
  ASSERT_EQ(std::size(kBlocks), std::size(domain::kAllStatuses));
  for (const auto& [status, blocks] : kBlocks) {
    SCOPED_TRACE(std::string(domain::StatusWord(status)));
    EXPECT_EQ(domain::IsLive(status), blocks);
    domain::Subscription current;
    current.tenant_id = "acme";
    current.stripe_subscription_id = "sub_1";
    current.status = status;
    if (blocks) {
      try {
        RequireNoLiveSubscription("acme", current);
        ADD_FAILURE() << "checkout allowed";
      } catch (const common::Error& e) {
        EXPECT_EQ(e.code(), common::ErrorCode::kFailedPrecondition);
        EXPECT_THAT(e.what(), ::testing::HasSubstr(std::string(domain::StatusWord(status))));
      }
    } else {
      EXPECT_NO_THROW(RequireNoLiveSubscription("acme", current));
    }
  }
  EXPECT_NO_THROW(RequireNoLiveSubscription("acme", std::nullopt));
}

TEST(ToSubscriptionProtoTest, NoRowMeansNone) {
  const auto s = ToSubscriptionProto("t1", std::nullopt);
  EXPECT_EQ(s.tenant_id(), "t1");
  EXPECT_EQ(s.status(), v1::SUBSCRIPTION_STATUS_NONE);
  EXPECT_FALSE(s.entitled());
  EXPECT_FALSE(s.has_current_period_end());
}

TEST(ToSubscriptionProtoTest, CopiesTheRow) {
  domain::Subscription r;
  r.tenant_id = "t1";
  r.plan = domain::Plan::kPro;
  r.status = domain::SubscriptionStatus::kPastDue;
  r.current_period_end = 1'800'000'000;
  r.stripe_customer_id = "cus_1";
  r.cancel_at_period_end = true;
  const auto s = ToSubscriptionProto("t1", r);
  EXPECT_EQ(s.plan(), v1::PLAN_PRO);
  EXPECT_EQ(s.status(), v1::SUBSCRIPTION_STATUS_PAST_DUE);
  EXPECT_TRUE(s.entitled());
  EXPECT_EQ(s.current_period_end().seconds(), 1'800'000'000);
  EXPECT_FALSE(s.has_trial_end());
  EXPECT_TRUE(s.cancel_at_period_end());
  EXPECT_EQ(s.stripe_customer_id(), "cus_1");
}

TEST(BillingConfigTest, StubModeWithoutKey) {
  common::Config config;
  config.stripe_price_pro = "price_pro";
  const auto c = MakeBillingConfig(config);
  EXPECT_TRUE(c.stub_mode());
  EXPECT_FALSE(c.test_mode());
  ASSERT_EQ(c.plans_size(), 3);
  EXPECT_EQ(c.plans(0).plan(), v1::PLAN_STARTER);
  EXPECT_FALSE(c.plans(0).price_configured());
  EXPECT_EQ(c.plans(1).name(), "Pro");
  EXPECT_TRUE(c.plans(1).price_configured());
  EXPECT_EQ(c.plans(1).price_id(), "price_pro");
}

TEST(BillingConfigTest, TestModeWithTestKey) {
  common::Config config;
  config.stripe_secret_key = "sk_test_123";
  config.stripe_webhook_secrets = {"whsec_1"};
  const auto c = MakeBillingConfig(config);
  EXPECT_FALSE(c.stub_mode());
  EXPECT_TRUE(c.test_mode());
  EXPECT_TRUE(c.webhooks_configured());
}

TEST(PaginationTest, TokensRoundTripAndAreOpaque) {
  const std::string token = common::EncodePageToken("tenant:42");
  EXPECT_EQ(token.find("tenant"), std::string::npos);
  EXPECT_EQ(common::DecodePageToken(token), "tenant:42");
  EXPECT_EQ(common::DecodePageToken(""), "");
  EXPECT_THROW(common::DecodePageToken("!!"), common::Error);
  EXPECT_THROW(common::DecodePageToken(common::EncodePageToken("x").substr(2)), common::Error);
}

TEST(PaginationTest, PageSizes) {
  EXPECT_EQ(common::PageSize(0), common::kDefaultPageSize);
  EXPECT_EQ(common::PageSize(7), 7);
  EXPECT_EQ(common::PageSize(100000), common::kMaxPageSize);
  EXPECT_THROW(common::PageSize(-1), common::Error);
}

}  // namespace
}  // namespace paybell::billing

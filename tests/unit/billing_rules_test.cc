#include <gtest/gtest.h>

#include "server/billing/billing_config.h"
#include "server/billing/billing_service.h"
#include "server/billing/subscription_rules.h"
#include "server/common/config.h"
#include "server/common/error.h"
#include "server/common/pagination.h"

namespace paybell::billing {
namespace {

TEST(SubscriptionRulesTest, StatusWordsRoundTrip) {
  for (const char* word : {"active", "trialing", "past_due", "canceled", "unpaid", "incomplete",
                           "incomplete_expired", "paused"}) {
    const auto status = StatusFromWord(word);
    EXPECT_NE(status, v1::SUBSCRIPTION_STATUS_UNSPECIFIED) << word;
    EXPECT_EQ(StatusWord(status), word);
  }
  EXPECT_EQ(StatusFromWord("bogus"), v1::SUBSCRIPTION_STATUS_UNSPECIFIED);
  EXPECT_EQ(StatusWord(v1::SUBSCRIPTION_STATUS_NONE), "");
}

TEST(SubscriptionRulesTest, PlanWordsRoundTrip) {
  EXPECT_EQ(PlanFromWord("pro"), v1::PLAN_PRO);
  EXPECT_EQ(PlanWord(v1::PLAN_FIRM), "firm");
  EXPECT_EQ(PlanFromWord("Pro"), v1::PLAN_UNSPECIFIED);
  EXPECT_EQ(PlanWord(v1::PLAN_UNSPECIFIED), "");
}

TEST(SubscriptionRulesTest, Entitlement) {
  EXPECT_TRUE(IsEntitled(v1::SUBSCRIPTION_STATUS_ACTIVE));
  EXPECT_TRUE(IsEntitled(v1::SUBSCRIPTION_STATUS_TRIALING));
  EXPECT_TRUE(IsEntitled(v1::SUBSCRIPTION_STATUS_PAST_DUE));
  for (auto s : {v1::SUBSCRIPTION_STATUS_NONE, v1::SUBSCRIPTION_STATUS_CANCELED,
                 v1::SUBSCRIPTION_STATUS_UNPAID, v1::SUBSCRIPTION_STATUS_INCOMPLETE,
                 v1::SUBSCRIPTION_STATUS_INCOMPLETE_EXPIRED, v1::SUBSCRIPTION_STATUS_PAUSED}) {
    EXPECT_FALSE(IsEntitled(s)) << s;
  }
}

TEST(ToSubscriptionProtoTest, NoRowMeansNone) {
  const auto s = ToSubscriptionProto("t1", std::nullopt);
  EXPECT_EQ(s.tenant_id(), "t1");
  EXPECT_EQ(s.status(), v1::SUBSCRIPTION_STATUS_NONE);
  EXPECT_FALSE(s.entitled());
  EXPECT_FALSE(s.has_current_period_end());
}

TEST(ToSubscriptionProtoTest, CopiesTheRow) {
  db::SubscriptionRecord r;
  r.tenant_id = "t1";
  r.plan = "pro";
  r.status = "past_due";
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

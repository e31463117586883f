#include <gtest/gtest.h>

#include "server/notifications/rules.h"

namespace paybell::notifications {
namespace {

using domain::Channel;
using domain::Decision;

domain::NotificationSettings Configured() {
  domain::NotificationSettings s;
  s.tenant_id = "acme";
  s.email_enabled = true;
  s.email_recipients = {"ops@acme.example"};
  s.slack_enabled = true;
  s.slack_webhook_url = "https://hooks.slack.com/services/T1/B1/secret";
  return s;
}

domain::TriggerEvent Psi(double psi) { return domain::PsiDrift{"model-a", "invoices", psi}; }

TEST(NotificationRulesTest, PsiFiresOnlyStrictlyAboveTheDefaultThreshold) {
  const auto s = Configured();
  EXPECT_DOUBLE_EQ(s.psi_threshold, 0.20);
  EXPECT_FALSE(RuleFires(Psi(0.20), s));
  EXPECT_FALSE(RuleFires(Psi(0.1999999), s));
  EXPECT_FALSE(RuleFires(Psi(0), s));
  EXPECT_TRUE(RuleFires(Psi(0.2000001), s));
  EXPECT_TRUE(RuleFires(Psi(5), s));
}

TEST(NotificationRulesTest, PsiUsesTheTenantsThreshold) {
  auto s = Configured();
  s.psi_threshold = 0.5;
  EXPECT_FALSE(RuleFires(Psi(0.31), s));
  EXPECT_FALSE(RuleFires(Psi(0.5), s));
  EXPECT_TRUE(RuleFires(Psi(0.5000001), s));
  s.psi_threshold = 10;
  EXPECT_FALSE(RuleFires(Psi(10), s));
  EXPECT_TRUE(RuleFires(Psi(10.01), s));
}

TEST(NotificationRulesTest, ImbalanceFiresForEitherSignButNotZero) {
  const auto s = Configured();
  EXPECT_FALSE(RuleFires(domain::JournalImbalance{"je_1", 0, "EUR"}, s));
  EXPECT_TRUE(RuleFires(domain::JournalImbalance{"je_1", 1, "EUR"}, s));
  EXPECT_TRUE(RuleFires(domain::JournalImbalance{"je_1", -1, "EUR"}, s));
}

TEST(NotificationRulesTest, OtherTriggersAlwaysFire) {
  const auto s = Configured();
  EXPECT_TRUE(RuleFires(domain::LlmBudgetFallback{"openai", "gpt-mini", 0, 0, "USD"}, s));
  EXPECT_TRUE(RuleFires(domain::ExportCompleted{"exp_1", "", "https://x.example/a"}, s));
  EXPECT_TRUE(RuleFires(domain::ColdStartGraduated{"model-a", 0}, s));
  EXPECT_TRUE(RuleFires(domain::PaymentFailed{}, s));
  EXPECT_TRUE(RuleFires(domain::PaymentActionRequired{}, s));
  EXPECT_TRUE(RuleFires(domain::TrialEnding{}, s));
}

TEST(NotificationRulesTest, ConfiguredAndFiringGoesOnToTheDebounce) {
  const auto s = Configured();
  EXPECT_EQ(DecideBeforeDebounce(Channel::kEmail, Psi(0.31), s), std::nullopt);
  EXPECT_EQ(DecideBeforeDebounce(Channel::kSlack, Psi(0.31), s), std::nullopt);
}

TEST(NotificationRulesTest, BelowThresholdComesFirstEvenWhenTheChannelIsOff) {
  auto s = Configured();
  s.email_enabled = false;
  s.slack_webhook_url.clear();
  EXPECT_EQ(DecideBeforeDebounce(Channel::kEmail, Psi(0.2), s), Decision::kBelowThreshold);
  EXPECT_EQ(DecideBeforeDebounce(Channel::kSlack, Psi(0.2), s), Decision::kBelowThreshold);
  EXPECT_EQ(DecideBeforeDebounce(Channel::kSlack, domain::JournalImbalance{"je", 0, "EUR"}, s),
            Decision::kBelowThreshold);
}

TEST(NotificationRulesTest, ChannelOffIsDisabledBeforeUnconfigured) {
  auto s = Configured();
  s.email_enabled = false;
  s.email_recipients.clear();
  s.slack_enabled = false;
  s.slack_webhook_url.clear();
  EXPECT_EQ(DecideBeforeDebounce(Channel::kEmail, Psi(0.31), s), Decision::kDisabled);
  EXPECT_EQ(DecideBeforeDebounce(Channel::kSlack, Psi(0.31), s), Decision::kDisabled);
}

TEST(NotificationRulesTest, DisabledTriggerIsDisabledOnEveryChannel) {
  auto s = Configured();
  s.disabled_triggers = {domain::Trigger::kPsiDrift};
  EXPECT_EQ(DecideBeforeDebounce(Channel::kEmail, Psi(0.31), s), Decision::kDisabled);
  EXPECT_EQ(DecideBeforeDebounce(Channel::kSlack, Psi(0.31), s), Decision::kDisabled);
  const domain::TriggerEvent other = domain::ColdStartGraduated{"m", 10};
  EXPECT_EQ(DecideBeforeDebounce(Channel::kEmail, other, s), std::nullopt);
}

TEST(NotificationRulesTest, ChannelOnWithNowhereToSendIsUnconfigured) {
  auto s = Configured();
  s.email_recipients.clear();
  s.slack_webhook_url.clear();
  EXPECT_EQ(DecideBeforeDebounce(Channel::kEmail, Psi(0.31), s), Decision::kUnconfigured);
  EXPECT_EQ(DecideBeforeDebounce(Channel::kSlack, Psi(0.31), s), Decision::kUnconfigured);
}

TEST(NotificationRulesTest, DefaultSettingsEmailUnconfiguredSlackDisabled) {
  domain::NotificationSettings defaults;
  const domain::TriggerEvent trial = domain::TrialEnding{"evt_1", 1'796'256'000};
  EXPECT_EQ(DecideBeforeDebounce(Channel::kEmail, trial, defaults), Decision::kUnconfigured);
  EXPECT_EQ(DecideBeforeDebounce(Channel::kSlack, trial, defaults), Decision::kDisabled);
}

TEST(NotificationRulesTest, BrokenSlackUrlStillGoesOn) {
  auto s = Configured();
  s.slack_broken = true;
  EXPECT_EQ(DecideBeforeDebounce(Channel::kSlack, Psi(0.31), s), std::nullopt);
}

}  // namespace
}  // namespace paybell::notifications

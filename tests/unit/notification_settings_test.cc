#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>
#include <nlohmann/json.hpp>

#include "server/common/error.h"
#include "server/notifications/settings.h"
#include "server/notifications/slack_url.h"

namespace paybell::notifications {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kSlackUrl[] = "https://hooks.slack.com/services/T0AAA/B0BBB/secretsecret";

common::Config TestConfig() {
  common::Config config;
  config.slack_allowed_hosts = {{"hooks.slack.com", std::nullopt}, {"127.0.0.1", 9443}};
  return config;
}

v1::NotificationSettings Update() {
  v1::NotificationSettings u;
  u.set_tenant_id("acme");
  u.set_email_enabled(true);
  u.add_email_recipients("ops@acme.example");
  u.set_slack_enabled(true);
  u.set_slack_webhook_url(kSlackUrl);
  u.set_psi_threshold(0.3);
  return u;
}

domain::NotificationSettings Apply(const v1::NotificationSettings& update,
                                   const domain::NotificationSettings& stored = {}) {
  return SettingsFromUpdate(update, stored, TestConfig());
}

std::string ErrorOf(const v1::NotificationSettings& update,
                    const domain::NotificationSettings& stored = {}) {
  try {
    Apply(update, stored);
    return "";
  } catch (const common::Error& e) {
    EXPECT_EQ(e.code(), common::ErrorCode::kInvalidArgument);
    return e.what();
  }
}

TEST(NotificationSettingsTest, AValidUpdateIsTakenAsGiven) {
  const auto s = Apply(Update());
  EXPECT_EQ(s.tenant_id, "acme");
  EXPECT_TRUE(s.email_enabled);
  EXPECT_THAT(s.email_recipients, ElementsAre("ops@acme.example"));
  EXPECT_TRUE(s.slack_enabled);
  EXPECT_EQ(s.slack_webhook_url, kSlackUrl);
  EXPECT_DOUBLE_EQ(s.psi_threshold, 0.3);
  EXPECT_TRUE(s.disabled_triggers.empty());
  EXPECT_FALSE(s.slack_broken);
}

TEST(NotificationSettingsTest, RecipientsAreNormalisedAndDeduplicated) {
  auto u = Update();
  u.clear_email_recipients();
  for (const char* a : {" Ops@ACME.Example ", "ops@acme.example", "Ops@acme.example",
                        "billing+alerts@Sub.Acme.example", "ops@acme.example"}) {
    u.add_email_recipients(a);
  }
  EXPECT_THAT(Apply(u).email_recipients, ElementsAre("Ops@acme.example", "ops@acme.example",
                                                     "billing+alerts@sub.acme.example"));
}

TEST(NotificationSettingsTest, EmailAddressRules) {
  for (const char* good : {"a@b", "first.last@example.com", "x_y-z+tag@mail.example.co.uk",
                           "o'brien@example.ie", "UPPER@EXAMPLE.COM"}) {
    EXPECT_TRUE(NormaliseEmailAddress(good).has_value()) << good;
  }
  for (const char* bad : {"",
                          "plain",
                          "@example.com",
                          "a@",
                          "a@@example.com",
                          "a b@example.com",
                          "a@example.com\r\nBcc: x@evil.example",
                          "a@example.com\n",
                          "a\0b@example.com",
                          "\"quoted\"@example.com",
                          "a@[127.0.0.1]",
                          ".a@example.com",
                          "a.@example.com",
                          "a..b@example.com",
                          "a@example..com",
                          "a@.example.com",
                          "a@example.com.",
                          "a@-example.com",
                          "a@example-.com",
                          "a@exa_mple.com",
                          "j\xc3\xb6rg@example.com",
                          "a@ex\xc3\xa4mple.com",
                          "a,b@example.com",
                          "a@example.com,b@example.com",
                          "<a@example.com>",
                          "a@example.com>"}) {
    EXPECT_FALSE(NormaliseEmailAddress(bad).has_value()) << bad;
  }
  EXPECT_FALSE(NormaliseEmailAddress(std::string(65, 'a') + "@example.com").has_value());
  EXPECT_TRUE(NormaliseEmailAddress(std::string(64, 'a') + "@example.com").has_value());
  EXPECT_FALSE(NormaliseEmailAddress("a@" + std::string(64, 'b') + ".com").has_value());
}

TEST(NotificationSettingsTest, ABadRecipientIsNamedByIndex) {
  auto u = Update();
  u.add_email_recipients("not an address");
  EXPECT_EQ(ErrorOf(u), "email_recipients[1] is not a valid email address");
  u = Update();
  u.add_email_recipients("a@example.com\r\nBcc: victim@example.com");
  EXPECT_THAT(ErrorOf(u), StartsWith("email_recipients[1]"));
}

TEST(NotificationSettingsTest, AtMostTwentyRecipientsAfterDeduplication) {
  auto u = Update();
  u.clear_email_recipients();
  for (int i = 0; i < 20; ++i) u.add_email_recipients("r" + std::to_string(i) + "@example.com");
  u.add_email_recipients("r0@EXAMPLE.com");  // a duplicate: still 20
  EXPECT_EQ(Apply(u).email_recipients.size(), 20u);
  u.add_email_recipients("r20@example.com");
  EXPECT_THAT(ErrorOf(u), StartsWith("email_recipients must hold at most 20"));
}

TEST(NotificationSettingsTest, NoRecipientsWithEmailOnIsAllowed) {
  auto u = Update();
  u.clear_email_recipients();
  const auto s = Apply(u);
  EXPECT_TRUE(s.email_enabled);
  EXPECT_TRUE(s.email_recipients.empty());
}

TEST(NotificationSettingsTest, PsiThreshold) {
  auto u = Update();
  u.set_psi_threshold(0);
  EXPECT_DOUBLE_EQ(Apply(u).psi_threshold, 0.20);
  u.set_psi_threshold(10);
  EXPECT_DOUBLE_EQ(Apply(u).psi_threshold, 10);
  u.set_psi_threshold(1e-9);
  EXPECT_DOUBLE_EQ(Apply(u).psi_threshold, 1e-9);
  for (double bad : {-0.1, 10.000001, std::numeric_limits<double>::quiet_NaN(),
                     std::numeric_limits<double>::infinity()}) {
    u.set_psi_threshold(bad);
    EXPECT_THAT(ErrorOf(u), StartsWith("psi_threshold must be > 0 and <= 10")) << bad;
  }
}

TEST(NotificationSettingsTest, DisabledTriggersFromTheEnum) {
  auto u = Update();
  u.add_disabled_triggers(v1::TRIGGER_TRIAL_ENDING);
  u.add_disabled_triggers(v1::TRIGGER_PSI_DRIFT);
  u.add_disabled_triggers(v1::TRIGGER_PSI_DRIFT);
  EXPECT_EQ(Apply(u).disabled_triggers,
            (std::set<domain::Trigger>{domain::Trigger::kPsiDrift, domain::Trigger::kTrialEnding}));
  u.add_disabled_triggers(v1::TRIGGER_UNSPECIFIED);
  EXPECT_EQ(ErrorOf(u), "disabled_triggers[3] is not a known trigger");
  u.set_disabled_triggers(3, static_cast<v1::Trigger>(42));
  EXPECT_EQ(ErrorOf(u), "disabled_triggers[3] is not a known trigger");
}

TEST(NotificationSettingsTest, TenantIdIsChecked) {
  auto u = Update();
  u.set_tenant_id("");
  EXPECT_THAT(ErrorOf(u), StartsWith("tenant_id"));
  u.set_tenant_id("a/b");
  EXPECT_THAT(ErrorOf(u), StartsWith("tenant_id"));
}

TEST(NotificationSettingsTest, SlackUrlIsCheckedAgainstTheAllowList) {
  auto u = Update();
  u.set_slack_webhook_url("https://evil.example/services/T0/B0/x");
  EXPECT_THAT(ErrorOf(u), StartsWith("slack_webhook_url host must be one of"));
  u.set_slack_webhook_url("http://hooks.slack.com/services/T0/B0/x");
  EXPECT_THAT(ErrorOf(u), StartsWith("slack_webhook_url must be an https URL"));
  u.set_slack_webhook_url("https://127.0.0.1:9443/services/T0/B0/x");
  EXPECT_EQ(Apply(u).slack_webhook_url, "https://127.0.0.1:9443/services/T0/B0/x");
  u.set_slack_webhook_url("https://HOOKS.slack.com/services/T0/B0/Xy");
  EXPECT_EQ(Apply(u).slack_webhook_url, "https://hooks.slack.com/services/T0/B0/Xy");
}

TEST(NotificationSettingsTest, SlackOnWithoutUrlIsAllowedAndEmptyClears) {
  domain::NotificationSettings stored = Apply(Update());
  stored.slack_broken = true;
  auto u = Update();
  u.clear_slack_webhook_url();
  const auto s = Apply(u, stored);
  EXPECT_TRUE(s.slack_enabled);
  EXPECT_EQ(s.slack_webhook_url, "");
  EXPECT_FALSE(s.slack_broken);
}

TEST(NotificationSettingsTest, TheMaskedUrlKeepsTheStoredUrlAndItsBrokenFlag) {
  domain::NotificationSettings stored = Apply(Update());
  stored.slack_broken = true;
  auto u = Update();
  u.set_slack_webhook_url(MaskSlackUrl(kSlackUrl));
  const auto s = Apply(u, stored);
  EXPECT_EQ(s.slack_webhook_url, kSlackUrl);
  EXPECT_TRUE(s.slack_broken);
  // The same full URL again keeps the flag too: nothing changed.
  u.set_slack_webhook_url(kSlackUrl);
  EXPECT_TRUE(Apply(u, stored).slack_broken);
}

TEST(NotificationSettingsTest, AChangedUrlClearsTheBrokenFlag) {
  domain::NotificationSettings stored = Apply(Update());
  stored.slack_broken = true;
  auto u = Update();
  u.set_slack_webhook_url("https://hooks.slack.com/services/T0AAA/B0BBB/newsecret");
  const auto s = Apply(u, stored);
  EXPECT_EQ(s.slack_webhook_url, "https://hooks.slack.com/services/T0AAA/B0BBB/newsecret");
  EXPECT_FALSE(s.slack_broken);
}

TEST(NotificationSettingsTest, AStaleMaskIsRefusedWithAHint) {
  domain::NotificationSettings stored = Apply(Update());
  auto u = Update();
  u.set_slack_webhook_url("https://127.0.0.1:9443/services/T\u2026/\u2026/****");
  EXPECT_THAT(ErrorOf(u, stored), HasSubstr("masked URL that does not match"));
  EXPECT_THAT(ErrorOf(u), HasSubstr("masked URL that does not match"));
}

TEST(NotificationSettingsTest, OutputOnlyFieldsAreIgnored) {
  domain::NotificationSettings stored;
  stored.updated_at = 1'700'000'000;
  auto u = Update();
  u.set_slack_broken(true);
  u.mutable_updated_at()->set_seconds(5);
  const auto s = Apply(u, stored);
  EXPECT_FALSE(s.slack_broken);
  EXPECT_EQ(s.updated_at, 1'700'000'000);
}

TEST(NotificationSettingsTest, ToProtoMasksTheUrl) {
  auto s = Apply(Update());
  s.disabled_triggers = {domain::Trigger::kTrialEnding, domain::Trigger::kPsiDrift};
  s.slack_broken = true;
  const auto p = SettingsToProto(s);
  EXPECT_EQ(p.tenant_id(), "acme");
  EXPECT_EQ(p.slack_webhook_url(), "https://hooks.slack.com/services/T\u2026/\u2026/****");
  EXPECT_EQ(p.DebugString().find("secret"), std::string::npos);
  EXPECT_THAT(p.email_recipients(), ElementsAre("ops@acme.example"));
  EXPECT_THAT(p.disabled_triggers(), ElementsAre(v1::TRIGGER_PSI_DRIFT, v1::TRIGGER_TRIAL_ENDING));
  EXPECT_DOUBLE_EQ(p.psi_threshold(), 0.3);
  EXPECT_TRUE(p.slack_broken());
  EXPECT_FALSE(p.has_updated_at());
  s.updated_at = 1'700'000'000;
  EXPECT_EQ(SettingsToProto(s).updated_at().seconds(), 1'700'000'000);
}

TEST(NotificationSettingsTest, DefaultsReadBackAsDefaults) {
  domain::NotificationSettings defaults;
  defaults.tenant_id = "acme";
  const auto p = SettingsToProto(defaults);
  EXPECT_TRUE(p.email_enabled());
  EXPECT_EQ(p.email_recipients_size(), 0);
  EXPECT_FALSE(p.slack_enabled());
  EXPECT_EQ(p.slack_webhook_url(), "");
  EXPECT_DOUBLE_EQ(p.psi_threshold(), 0.20);
}

TEST(NotificationSettingsTest, RoundTripThroughProtoKeepsEverything) {
  auto u = Update();
  u.add_disabled_triggers(v1::TRIGGER_EXPORT_COMPLETED);
  const auto stored = Apply(u);
  const auto again = Apply(SettingsToProto(stored), stored);
  EXPECT_EQ(again.slack_webhook_url, stored.slack_webhook_url);
  EXPECT_EQ(again.email_recipients, stored.email_recipients);
  EXPECT_EQ(again.disabled_triggers, stored.disabled_triggers);
  EXPECT_EQ(again.psi_threshold, stored.psi_threshold);
  EXPECT_EQ(AuditDetail(stored, again), "{}");
}

TEST(NotificationSettingsTest, AuditDetailNamesWhatChangedButNeverTheUrl) {
  const auto before = Apply(Update());
  auto u = Update();
  u.set_email_enabled(false);
  u.clear_email_recipients();
  u.add_email_recipients("new@acme.example");
  u.set_slack_webhook_url("https://hooks.slack.com/services/T0AAA/B0BBB/othersecret");
  u.set_psi_threshold(0.5);
  u.add_disabled_triggers(v1::TRIGGER_PSI_DRIFT);
  const auto after = Apply(u, before);
  const std::string detail = AuditDetail(before, after);
  EXPECT_EQ(detail.find("secret"), std::string::npos);
  EXPECT_EQ(detail.find("hooks.slack.com"), std::string::npos);
  const auto j = nlohmann::json::parse(detail);
  EXPECT_EQ(j["slack_webhook_url"], "changed");
  EXPECT_EQ(j["email_enabled"]["before"], true);
  EXPECT_EQ(j["email_enabled"]["after"], false);
  EXPECT_EQ(j["email_recipients"]["added"], nlohmann::json::array({"new@acme.example"}));
  EXPECT_EQ(j["email_recipients"]["removed"], nlohmann::json::array({"ops@acme.example"}));
  EXPECT_EQ(j["psi_threshold"]["after"], 0.5);
  EXPECT_EQ(j["disabled_triggers"]["after"], nlohmann::json::array({"psi_drift"}));
  EXPECT_FALSE(j.contains("slack_enabled"));
}

}  // namespace
}  // namespace paybell::notifications

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "server/common/error.h"
#include "server/notifications/content.h"
#include "server/notifications/embedded_templates.h"

namespace paybell::notifications {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const RenderContext kContext{"acme", "https://app.example/"};

domain::PaymentFailed PaymentFailure() {
  domain::PaymentFailed p;
  p.event_id = "evt_1";
  p.invoice_id = "in_1";
  p.hosted_invoice_url = "https://invoice.stripe.com/i/acct_1/test_abc?s=ap";
  p.amount_due_minor = 4900;
  p.currency = "USD";
  return p;
}

std::vector<domain::TriggerEvent> OneOfEach() {
  domain::PaymentActionRequired action;
  action.event_id = "evt_2";
  action.invoice_id = "in_2";
  action.hosted_invoice_url = "https://invoice.stripe.com/i/acct_1/test_def";
  action.amount_due_minor = 120000;
  action.currency = "JPY";
  return {
      domain::PsiDrift{"model-a", "invoices", 0.3127},
      domain::LlmBudgetFallback{"openai", "gpt-4o-mini", 10000, 10050, "USD"},
      domain::JournalImbalance{"je_42", -1234, "EUR"},
      domain::ExportCompleted{"exp_7", "ledger_csv", "https://files.example/e.csv?sig=a&b=c"},
      domain::ColdStartGraduated{"model-b", 5000},
      PaymentFailure(),
      action,
      domain::TrialEnding{"evt_3", 1796256000},  // 2026-12-03T00:00:00Z
  };
}

TEST(NotificationContentTest, PayloadRoundTripsForEveryTrigger) {
  const auto events = OneOfEach();
  ASSERT_EQ(events.size(), std::size(domain::kAllTriggers));
  for (const auto& event : events) {
    const auto trigger = domain::TriggerOf(event);
    const std::string json = PayloadJson(event);
    EXPECT_TRUE(nlohmann::json::parse(json).is_object());
    const auto back = PayloadFromJson(trigger, json);
    ASSERT_EQ(domain::TriggerOf(back), trigger);
    EXPECT_EQ(PayloadJson(back), json) << domain::TriggerWord(trigger);
  }
}

TEST(NotificationContentTest, PayloadKeepsValuesExactly) {
  const auto back = PayloadFromJson(domain::Trigger::kPsiDrift,
                                    PayloadJson(domain::PsiDrift{"m", "f", 0.2000001}));
  EXPECT_EQ(std::get<domain::PsiDrift>(back).psi, 0.2000001);
  const auto pf = std::get<domain::PaymentFailed>(
      PayloadFromJson(domain::Trigger::kPaymentFailed, PayloadJson(PaymentFailure())));
  EXPECT_EQ(pf.event_id, "evt_1");
  EXPECT_EQ(pf.hosted_invoice_url, "https://invoice.stripe.com/i/acct_1/test_abc?s=ap");
  EXPECT_EQ(pf.amount_due_minor, 4900);
  const auto big = std::get<domain::JournalImbalance>(
      PayloadFromJson(domain::Trigger::kJournalImbalance,
                      PayloadJson(domain::JournalImbalance{"je", INT64_MIN, "EUR"})));
  EXPECT_EQ(big.imbalance_minor, INT64_MIN);
}

TEST(NotificationContentTest, UnreadablePayloadIsInternal) {
  for (const char* bad : {"", "not json", "[]", "{}", R"({"model":"m","feature_set":"f"})",
                          R"({"model":1,"feature_set":"f","psi":0.3})"}) {
    try {
      PayloadFromJson(domain::Trigger::kPsiDrift, bad);
      ADD_FAILURE() << bad;
    } catch (const common::Error& e) {
      EXPECT_EQ(e.code(), common::ErrorCode::kInternal) << bad;
    }
  }
  // Another trigger's payload does not pass for this one.
  EXPECT_THROW(PayloadFromJson(domain::Trigger::kPaymentFailed,
                               PayloadJson(domain::PsiDrift{"m", "f", 0.3})),
               common::Error);
}

TEST(NotificationContentTest, Summaries) {
  EXPECT_EQ(Summary(domain::PsiDrift{"model-a", "invoices", 0.31}),
            "PSI 0.31 on model-a (invoices)");
  EXPECT_EQ(Summary(domain::PsiDrift{"model-a", "", 0.2000001}), "PSI 0.2000001 on model-a");
  EXPECT_EQ(Summary(domain::JournalImbalance{"je_42", -1234, "EUR"}),
            "Journal entry je_42 is off by -12.34 EUR");
  EXPECT_EQ(Summary(domain::JournalImbalance{"je_1", 5, "JPY"}),
            "Journal entry je_1 is off by 5 JPY");
  EXPECT_EQ(Summary(domain::JournalImbalance{"je_1", 12345, "KWD"}),
            "Journal entry je_1 is off by 12.345 KWD");
  EXPECT_EQ(Summary(domain::JournalImbalance{"je_1", INT64_MIN, "USD"}),
            "Journal entry je_1 is off by -92233720368547758.08 USD");
  EXPECT_EQ(Summary(PaymentFailure()), "Payment of 49.00 USD failed (invoice in_1)");
  EXPECT_EQ(Summary(domain::TrialEnding{"evt", 1796256000}), "Trial ends on 2026-12-03 (UTC)");
  EXPECT_EQ(Summary(domain::TrialEnding{"evt", 1796342399}), "Trial ends on 2026-12-03 (UTC)");
}

TEST(NotificationContentTest, EveryMessageNamesTheTenantAndLinksTheSettingsPage) {
  for (const auto& event : OneOfEach()) {
    const auto m = RenderTrigger(event, kContext);
    const auto word = domain::TriggerWord(domain::TriggerOf(event));
    EXPECT_THAT(m.subject, HasSubstr("acme")) << word;
    EXPECT_THAT(m.text, HasSubstr("acme")) << word;
    EXPECT_THAT(m.text, HasSubstr("https://app.example/settings/notifications")) << word;
    EXPECT_THAT(m.html, HasSubstr("acme")) << word;
    EXPECT_THAT(m.html, HasSubstr("settings")) << word;
    const auto slack = nlohmann::json::parse(m.slack_json);
    EXPECT_THAT(slack["text"].get<std::string>(), HasSubstr("acme")) << word;
    EXPECT_TRUE(slack["blocks"].is_array()) << word;
    EXPECT_THAT(m.slack_json, HasSubstr("https://app.example/settings/notifications")) << word;
    EXPECT_THAT(m.text, HasSubstr(Summary(event).substr(0, 10))) << word;
  }
}

TEST(NotificationContentTest, PaymentAndTrialMessagesLinkTheBillingPage) {
  for (const auto& event : OneOfEach()) {
    const auto trigger = domain::TriggerOf(event);
    const bool billing = trigger == domain::Trigger::kPaymentFailed ||
                         trigger == domain::Trigger::kPaymentActionRequired ||
                         trigger == domain::Trigger::kTrialEnding;
    const auto m = RenderTrigger(event, kContext);
    EXPECT_EQ(m.text.find("https://app.example/billing") != std::string::npos, billing)
        << domain::TriggerWord(trigger);
    EXPECT_EQ(m.slack_json.find("https://app.example/billing") != std::string::npos, billing)
        << domain::TriggerWord(trigger);
  }
}

TEST(NotificationContentTest, PaymentMessagesLinkTheHostedInvoice) {
  const auto m = RenderTrigger(PaymentFailure(), kContext);
  EXPECT_THAT(m.subject, HasSubstr("49.00 USD"));
  EXPECT_THAT(m.text,
              HasSubstr("Pay the invoice: https://invoice.stripe.com/i/acct_1/test_abc?s=ap"));
  EXPECT_THAT(m.html, HasSubstr("invoice.stripe.com"));
  EXPECT_THAT(m.slack_json, HasSubstr("invoice.stripe.com"));
  const auto action = RenderTrigger(OneOfEach()[6], kContext);
  EXPECT_THAT(action.text,
              HasSubstr("Confirm the payment: https://invoice.stripe.com/i/acct_1/test_def"));
  EXPECT_THAT(action.text, HasSubstr("Amount due: 120000 JPY"));
}

TEST(NotificationContentTest, NonWebLinksAreNotRendered) {
  auto p = PaymentFailure();
  p.hosted_invoice_url = "javascript:alert(1)";
  const auto m = RenderTrigger(p, kContext);
  EXPECT_THAT(m.text, Not(HasSubstr("javascript")));
  EXPECT_THAT(m.html, Not(HasSubstr("javascript")));
  EXPECT_THAT(m.slack_json, Not(HasSubstr("javascript")));
}

TEST(NotificationContentTest, TrialEndingGivesTheUtcDate) {
  const auto m = RenderTrigger(domain::TrialEnding{"evt", 1796256000 + 3600 * 23}, kContext);
  EXPECT_THAT(m.subject, HasSubstr("2026-12-03"));
  EXPECT_THAT(m.text, HasSubstr("2026-12-03"));
  EXPECT_THAT(m.slack_json, HasSubstr("2026-12-03"));
}

TEST(NotificationContentTest, ExportLinksTheDownload) {
  const auto m = RenderTrigger(OneOfEach()[3], kContext);
  EXPECT_THAT(m.text, HasSubstr("https://files.example/e.csv?sig=a&b=c"));
  EXPECT_THAT(m.html, HasSubstr("e.csv?sig=a&amp;b=c"));
  EXPECT_THAT(m.slack_json, HasSubstr("e.csv?sig=a&amp;b=c"));
}

TEST(NotificationContentTest, HtmlAndSlackEscapeValues) {
  const domain::PsiDrift evil{"<script>alert('x')</script> & co", "<b>fs</b>", 0.5};
  const auto m = RenderTrigger(evil, kContext);
  EXPECT_THAT(m.html, Not(HasSubstr("<script>")));
  EXPECT_THAT(m.html, Not(HasSubstr("<b>fs")));
  EXPECT_THAT(m.html, HasSubstr("&lt;script&gt;"));
  EXPECT_THAT(m.html, HasSubstr("&amp; co"));
  EXPECT_THAT(m.html, Not(HasSubstr(" & co")));
  // The text part is plain text: shown as written, not HTML-escaped.
  EXPECT_THAT(m.text, HasSubstr("<script>alert('x')</script> & co"));
  EXPECT_THAT(m.text, Not(HasSubstr("&lt;")));
  const auto slack = nlohmann::json::parse(m.slack_json);
  const std::string dumped = slack.dump();
  EXPECT_THAT(dumped, Not(HasSubstr("<script>")));
  EXPECT_THAT(dumped, HasSubstr("&lt;script&gt;"));
  EXPECT_THAT(dumped, HasSubstr("&amp; co"));
  EXPECT_THAT(slack["text"].get<std::string>(), Not(HasSubstr(" & ")));
}

TEST(NotificationContentTest, SlackLinksCannotBeForgedByValues) {
  const domain::PsiDrift evil{"<https://evil.example|click> <!channel>", "", 0.5};
  const std::string slack = RenderTrigger(evil, kContext).slack_json;
  EXPECT_THAT(slack, Not(HasSubstr("<https://evil")));
  EXPECT_THAT(slack, Not(HasSubstr("<!channel>")));
}

TEST(NotificationContentTest, HtmlTemplatesNeverUseUnescapedTags) {
  const std::string& html = EmbeddedTemplate("email.html.mustache");
  // Only the leading comment may mention triple braces.
  const std::string body = html.substr(html.find("}}") + 2);
  EXPECT_EQ(body.find("{{{"), std::string::npos);
  EXPECT_EQ(body.find("{{&"), std::string::npos);
  EXPECT_THROW(EmbeddedTemplate("missing.mustache"), common::Error);
}

std::vector<domain::TriggerEvent> PsiEvents(int n) {
  std::vector<domain::TriggerEvent> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(domain::PsiDrift{"model-" + std::to_string(i), "f", 0.25 + i / 100.0});
  }
  return out;
}

std::string DigestLine(const RenderedMessage& m) {
  return nlohmann::json::parse(m.slack_json)["text"].get<std::string>();
}

TEST(NotificationContentTest, DigestListsWhatWasSuppressed) {
  const std::vector<domain::TriggerEvent> items = {domain::PsiDrift{"model-a", "f", 0.31},
                                                   domain::PsiDrift{"model-b", "f", 0.27},
                                                   domain::PsiDrift{"model-c", "f", 0.22}};
  const auto m = RenderDigest(domain::Trigger::kPsiDrift, items, 3, 900, kContext);
  const std::string line =
      "3 more PSI drift alerts for acme in the last 15 minutes: model-a 0.31, model-b 0.27, "
      "model-c 0.22";
  EXPECT_EQ(DigestLine(m), line);
  EXPECT_THAT(m.text, HasSubstr(line));
  EXPECT_THAT(m.html, HasSubstr(line));
  EXPECT_THAT(m.subject, HasSubstr("3 more PSI drift alerts for acme"));
  EXPECT_THAT(m.text, Not(HasSubstr("and 0 more")));
}

TEST(NotificationContentTest, DigestSingularAndWindowWords) {
  const auto one = RenderDigest(domain::Trigger::kPsiDrift, {domain::PsiDrift{"m", "f", 0.5}}, 1,
                                3600, kContext);
  EXPECT_EQ(DigestLine(one), "1 more PSI drift alert for acme in the last 1 hour: m 0.5");
  const auto secs = RenderDigest(domain::Trigger::kJournalImbalance,
                                 {domain::JournalImbalance{"je_1", 150, "EUR"}}, 1, 2, kContext);
  EXPECT_EQ(DigestLine(secs),
            "1 more journal imbalance for acme in the last 2 seconds: je_1 1.50 EUR");
}

TEST(NotificationContentTest, DigestOfExactlyTwentyHasNoRemainder) {
  const auto m = RenderDigest(domain::Trigger::kPsiDrift, PsiEvents(20), 20, 900, kContext);
  EXPECT_THAT(DigestLine(m), HasSubstr("model-19 0.44"));
  EXPECT_THAT(DigestLine(m), Not(HasSubstr("more:")));
  EXPECT_THAT(DigestLine(m), Not(HasSubstr(" and ")));
}

TEST(NotificationContentTest, DigestOfTwentyOneListsTwentyAndOneMore) {
  // Whether the caller passes the first 20 or all 21, 20 are listed.
  for (int passed : {20, 21}) {
    const auto m = RenderDigest(domain::Trigger::kPsiDrift, PsiEvents(passed), 21, 900, kContext);
    const std::string line = DigestLine(m);
    EXPECT_THAT(line, HasSubstr("21 more PSI drift alerts for acme in the last 15 minutes: "));
    EXPECT_THAT(line, HasSubstr("model-19 0.44 and 1 more"));
    EXPECT_THAT(line, Not(HasSubstr("model-20")));
    EXPECT_THAT(m.text, HasSubstr("model-19 0.44 and 1 more"));
  }
  const auto many = RenderDigest(domain::Trigger::kPsiDrift, PsiEvents(20), 250, 900, kContext);
  EXPECT_THAT(DigestLine(many), HasSubstr("and 230 more"));
}

TEST(NotificationContentTest, PaymentDigestsLinkBilling) {
  const auto m =
      RenderDigest(domain::Trigger::kPaymentFailed, {PaymentFailure()}, 1, 900, kContext);
  EXPECT_EQ(DigestLine(m), "1 more failed payment for acme in the last 15 minutes: in_1 49.00 USD");
  EXPECT_THAT(m.text, HasSubstr("https://app.example/billing"));
}

TEST(NotificationContentTest, TestMessagesAreMarked) {
  for (auto channel : domain::kAllChannels) {
    const auto m = RenderTest(channel, kContext);
    EXPECT_THAT(m.subject, HasSubstr("TEST"));
    EXPECT_THAT(m.subject, HasSubstr("acme"));
    EXPECT_THAT(m.text, HasSubstr("THIS IS A TEST"));
    EXPECT_THAT(m.html, HasSubstr("This is a test message"));
    EXPECT_THAT(DigestLine(m), HasSubstr("[TEST]"));
    EXPECT_THAT(m.slack_json, HasSubstr("Test message from Paybell"));
    EXPECT_THAT(m.text, HasSubstr("https://app.example/settings/notifications"));
  }
  EXPECT_THAT(RenderTrigger(OneOfEach()[0], kContext).text, Not(HasSubstr("TEST")));
}

}  // namespace
}  // namespace paybell::notifications

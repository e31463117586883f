#include "server/notifications/emit_validation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>

#include "server/common/error.h"

namespace paybell::notifications {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// The INVALID_ARGUMENT message TriggerFromEmit throws, or "" when it accepts the request.
std::string ErrorOf(const v1::EmitRequest& request) {
  try {
    TriggerFromEmit(request);
    return "";
  } catch (const common::Error& e) {
    EXPECT_EQ(e.code(), common::ErrorCode::kInvalidArgument);
    return e.what();
  }
}

v1::EmitRequest PsiRequest(double psi) {
  v1::EmitRequest r;
  r.set_tenant_id("acme");
  r.mutable_psi_drift()->set_model("model-a");
  r.mutable_psi_drift()->set_feature_set("invoices");
  r.mutable_psi_drift()->set_psi(psi);
  return r;
}

v1::EmitRequest LlmRequest() {
  v1::EmitRequest r;
  r.set_tenant_id("acme");
  auto* p = r.mutable_llm_budget_fallback();
  p->set_provider("openai");
  p->set_fallback_model("gpt-4o-mini");
  p->set_budget_minor(10000);
  p->set_spent_minor(10050);
  p->set_currency("usd");
  return r;
}

v1::EmitRequest ExportRequest(const std::string& url) {
  v1::EmitRequest r;
  r.set_tenant_id("acme");
  r.mutable_export_completed()->set_export_id("exp_1");
  r.mutable_export_completed()->set_kind("ledger_csv");
  r.mutable_export_completed()->set_download_url(url);
  return r;
}

TEST(EmitValidationTest, PsiDriftIsConverted) {
  const auto event = TriggerFromEmit(PsiRequest(0.31));
  const auto& psi = std::get<domain::PsiDrift>(event);
  EXPECT_EQ(psi.model, "model-a");
  EXPECT_EQ(psi.feature_set, "invoices");
  EXPECT_DOUBLE_EQ(psi.psi, 0.31);
  EXPECT_EQ(ErrorOf(PsiRequest(0)), "");
}

TEST(EmitValidationTest, PsiMustBeFiniteAndNotNegative) {
  for (double bad :
       {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
        -std::numeric_limits<double>::infinity(), -0.01}) {
    EXPECT_EQ(ErrorOf(PsiRequest(bad)), "psi_drift.psi must be a finite number >= 0") << bad;
  }
}

TEST(EmitValidationTest, NamesAndIdsAreRequired) {
  auto psi = PsiRequest(0.3);
  psi.mutable_psi_drift()->clear_model();
  EXPECT_THAT(ErrorOf(psi), StartsWith("psi_drift.model is required"));

  auto llm = LlmRequest();
  llm.mutable_llm_budget_fallback()->clear_fallback_model();
  EXPECT_THAT(ErrorOf(llm), StartsWith("llm_budget_fallback.fallback_model"));
  llm = LlmRequest();
  llm.mutable_llm_budget_fallback()->clear_provider();
  EXPECT_THAT(ErrorOf(llm), StartsWith("llm_budget_fallback.provider"));

  v1::EmitRequest journal;
  journal.set_tenant_id("acme");
  journal.mutable_journal_imbalance()->set_currency("EUR");
  journal.mutable_journal_imbalance()->set_imbalance_minor(5);
  EXPECT_THAT(ErrorOf(journal), StartsWith("journal_imbalance.journal_entry_id"));

  auto exp = ExportRequest("https://files.example/e.csv");
  exp.mutable_export_completed()->clear_export_id();
  EXPECT_THAT(ErrorOf(exp), StartsWith("export_completed.export_id"));

  v1::EmitRequest cold;
  cold.set_tenant_id("acme");
  cold.mutable_cold_start_graduated()->set_samples(10);
  EXPECT_THAT(ErrorOf(cold), StartsWith("cold_start_graduated.model"));
}

TEST(EmitValidationTest, TextWithControlCharactersOrTooLongIsRefused) {
  auto r = PsiRequest(0.3);
  r.mutable_psi_drift()->set_model("model\r\nBcc: x@evil.example");
  EXPECT_THAT(ErrorOf(r), StartsWith("psi_drift.model must not contain control characters"));
  r.mutable_psi_drift()->set_model(std::string(201, 'm'));
  EXPECT_THAT(ErrorOf(r), StartsWith("psi_drift.model must be at most 200"));
  r.mutable_psi_drift()->set_model(std::string(200, 'm'));
  EXPECT_EQ(ErrorOf(r), "");
}

TEST(EmitValidationTest, AmountsMustNotBeNegative) {
  auto r = LlmRequest();
  r.mutable_llm_budget_fallback()->set_budget_minor(-1);
  EXPECT_THAT(ErrorOf(r), StartsWith("llm_budget_fallback.budget_minor must be >= 0"));
  r = LlmRequest();
  r.mutable_llm_budget_fallback()->set_spent_minor(-1);
  EXPECT_THAT(ErrorOf(r), StartsWith("llm_budget_fallback.spent_minor must be >= 0"));
  r = LlmRequest();
  r.mutable_llm_budget_fallback()->set_budget_minor(0);
  EXPECT_EQ(ErrorOf(r), "");

  v1::EmitRequest cold;
  cold.set_tenant_id("acme");
  cold.mutable_cold_start_graduated()->set_model("m");
  cold.mutable_cold_start_graduated()->set_samples(-5);
  EXPECT_THAT(ErrorOf(cold), StartsWith("cold_start_graduated.samples must be >= 0"));
}

TEST(EmitValidationTest, NegativeImbalanceIsAccepted) {
  v1::EmitRequest r;
  r.set_tenant_id("acme");
  r.mutable_journal_imbalance()->set_journal_entry_id("je_1");
  r.mutable_journal_imbalance()->set_imbalance_minor(-250);
  r.mutable_journal_imbalance()->set_currency("eur");
  const auto event = TriggerFromEmit(r);
  EXPECT_EQ(std::get<domain::JournalImbalance>(event).imbalance_minor, -250);
  EXPECT_EQ(std::get<domain::JournalImbalance>(event).currency, "EUR");
}

TEST(EmitValidationTest, CurrencyIsThreeAsciiLettersUpperCased) {
  auto r = LlmRequest();
  EXPECT_EQ(std::get<domain::LlmBudgetFallback>(TriggerFromEmit(r)).currency, "USD");
  for (const char* bad : {"", "US", "USDT", "U5D", "us ", "\xc3\xa9ur", "EU\xc3\xa9"}) {
    r.mutable_llm_budget_fallback()->set_currency(bad);
    EXPECT_THAT(ErrorOf(r), StartsWith("llm_budget_fallback.currency")) << bad;
  }
  v1::EmitRequest journal;
  journal.set_tenant_id("acme");
  journal.mutable_journal_imbalance()->set_journal_entry_id("je_1");
  journal.mutable_journal_imbalance()->set_currency("EURO");
  EXPECT_THAT(ErrorOf(journal), StartsWith("journal_imbalance.currency"));
}

TEST(EmitValidationTest, DownloadUrlMustBeHttpsWithAHost) {
  EXPECT_EQ(ErrorOf(ExportRequest("https://files.example/exports/e.csv?sig=a&b=c")), "");
  EXPECT_EQ(ErrorOf(ExportRequest("HTTPS://files.example/e.csv")), "");
  const std::pair<const char*, const char*> cases[] = {
      {"", "is required"},
      {"http://files.example/e.csv", "must be an https URL"},
      {"ftp://files.example/e.csv", "must be an https URL"},
      {"javascript:alert(1)", "must be a valid URL"},
      {"files.example/e.csv", "must be a valid URL"},
      {"https:///e.csv", "must name a host"},
      {"https://", "must name a host"},
      {"https://files.example/a b", "must be a valid URL"},
      {"https://files.example/a\nb", "must be a valid URL"},
      {"https://files.example\\@evil.example/", "must be a valid URL"},
      {"https://bank.example@evil.example/e.csv", "must not contain user info"},
      {"https://@evil.example/e.csv", "must not contain user info"},
      {"https://evil.example#@bank.example/", "must not contain user info"},
  };
  for (const auto& [url, message] : cases) {
    EXPECT_THAT(ErrorOf(ExportRequest(url)), StartsWith("export_completed.download_url")) << url;
    EXPECT_THAT(ErrorOf(ExportRequest(url)), HasSubstr(message)) << url;
  }
  EXPECT_THAT(ErrorOf(ExportRequest("https://files.example/" + std::string(2048, 'a'))),
              HasSubstr("at most 2048"));
}

TEST(EmitValidationTest, TenantIdIsChecked) {
  auto r = PsiRequest(0.3);
  r.set_tenant_id("");
  EXPECT_THAT(ErrorOf(r), StartsWith("tenant_id"));
  r.set_tenant_id("acme corp");
  EXPECT_THAT(ErrorOf(r), StartsWith("tenant_id"));
  r.set_tenant_id(std::string(129, 'a'));
  EXPECT_THAT(ErrorOf(r), StartsWith("tenant_id"));
}

TEST(EmitValidationTest, NoTriggerIsRefused) {
  v1::EmitRequest r;
  r.set_tenant_id("acme");
  EXPECT_THAT(ErrorOf(r), StartsWith("trigger is required"));
}

TEST(EmitValidationTest, EveryTriggerMapsBothWays) {
  for (auto trigger : domain::kAllTriggers) {
    const v1::Trigger proto = TriggerToProto(trigger);
    EXPECT_NE(proto, v1::TRIGGER_UNSPECIFIED);
    EXPECT_EQ(TriggerFromProto(proto), trigger);
  }
  EXPECT_EQ(TriggerToProto(domain::Trigger::kTrialEnding), v1::TRIGGER_TRIAL_ENDING);
  EXPECT_EQ(TriggerFromProto(v1::TRIGGER_UNSPECIFIED), std::nullopt);
  EXPECT_EQ(TriggerFromProto(99), std::nullopt);
  for (auto channel : domain::kAllChannels) {
    EXPECT_EQ(ChannelFromProto(ChannelToProto(channel)), channel);
  }
  EXPECT_EQ(ChannelFromProto(v1::CHANNEL_UNSPECIFIED), std::nullopt);
  EXPECT_EQ(DecisionToProto(domain::Decision::kQueued), v1::DECISION_QUEUED);
  EXPECT_EQ(DecisionToProto(domain::Decision::kSuppressed), v1::DECISION_SUPPRESSED);
  EXPECT_EQ(DecisionToProto(domain::Decision::kDisabled), v1::DECISION_DISABLED);
  EXPECT_EQ(DecisionToProto(domain::Decision::kBelowThreshold), v1::DECISION_BELOW_THRESHOLD);
  EXPECT_EQ(DecisionToProto(domain::Decision::kUnconfigured), v1::DECISION_UNCONFIGURED);
}

}  // namespace
}  // namespace paybell::notifications

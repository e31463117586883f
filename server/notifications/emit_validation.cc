#include "server/notifications/emit_validation.h"

#include <cmath>
#include <string>
#include <string_view>

#include "server/common/error.h"
#include "server/common/url.h"
#include "server/common/validation.h"

namespace paybell::notifications {
namespace {

using common::Error;
using common::ErrorCode;

constexpr size_t kMaxTextLength = 200;
constexpr size_t kMaxUrlLength = 2048;

[[noreturn]] void Invalid(const std::string& field, const std::string& what) {
  throw Error(ErrorCode::kInvalidArgument, field + " " + what);
}

// Names and ids end up in email subjects, Slack messages and log lines: printable text only.
std::string Text(const std::string& field, const std::string& value, bool required) {
  if (value.empty()) {
    if (required) Invalid(field, "is required");
    return value;
  }
  if (value.size() > kMaxTextLength) {
    Invalid(field, "must be at most " + std::to_string(kMaxTextLength) + " bytes");
  }
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7f) Invalid(field, "must not contain control characters");
  }
  return value;
}

int64_t NonNegative(const std::string& field, int64_t value) {
  if (value < 0) Invalid(field, "must be >= 0");
  return value;
}

std::string Currency(const std::string& field, const std::string& value) {
  if (value.size() != 3) Invalid(field, "must be a three-letter ISO 4217 code");
  std::string upper;
  for (char c : value) {
    const bool letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    if (!letter) Invalid(field, "must be a three-letter ISO 4217 code");
    upper.push_back(c >= 'a' ? static_cast<char>(c - 'a' + 'A') : c);
  }
  return upper;
}

std::string HttpsUrl(const std::string& field, const std::string& value) {
  if (value.empty()) Invalid(field, "is required");
  if (value.size() > kMaxUrlLength) {
    Invalid(field, "must be at most " + std::to_string(kMaxUrlLength) + " bytes");
  }
  // ParseUrl refuses control characters and spaces; a backslash is read as a slash by
  // browsers, so a link could show one host and open another.
  const auto url = common::ParseUrl(value);
  if (!url || value.find('\\') != std::string::npos) Invalid(field, "must be a valid URL");
  if (url->scheme != "https") Invalid(field, "must be an https URL");
  if (url->host.empty()) Invalid(field, "must name a host");
  // "https://bank.example@evil.example/" shows one host and opens another; with a "#" before
  // the "@", browsers and ParseUrl would disagree on the host.
  const std::string_view authority =
      std::string_view(value).substr(8, value.find_first_of("/?", 8) - 8);
  if (authority.find('@') != std::string_view::npos) Invalid(field, "must not contain user info");
  if (authority.find('#') != std::string_view::npos) Invalid(field, "must be a valid URL");
  return value;
}

}  // namespace

domain::TriggerEvent TriggerFromEmit(const v1::EmitRequest& request) {
  common::ValidateTenantId(request.tenant_id());
  switch (request.trigger_case()) {
    case v1::EmitRequest::kPsiDrift: {
      const auto& p = request.psi_drift();
      domain::PsiDrift out;
      out.model = Text("psi_drift.model", p.model(), true);
      out.feature_set = Text("psi_drift.feature_set", p.feature_set(), false);
      if (!std::isfinite(p.psi()) || p.psi() < 0) {
        Invalid("psi_drift.psi", "must be a finite number >= 0");
      }
      out.psi = p.psi();
      return out;
    }
    case v1::EmitRequest::kLlmBudgetFallback: {
      const auto& p = request.llm_budget_fallback();
      domain::LlmBudgetFallback out;
      out.provider = Text("llm_budget_fallback.provider", p.provider(), true);
      out.fallback_model = Text("llm_budget_fallback.fallback_model", p.fallback_model(), true);
      out.budget_minor = NonNegative("llm_budget_fallback.budget_minor", p.budget_minor());
      out.spent_minor = NonNegative("llm_budget_fallback.spent_minor", p.spent_minor());
      out.currency = Currency("llm_budget_fallback.currency", p.currency());
      return out;
    }
    case v1::EmitRequest::kJournalImbalance: {
      const auto& p = request.journal_imbalance();
      domain::JournalImbalance out;
      out.journal_entry_id = Text("journal_imbalance.journal_entry_id", p.journal_entry_id(), true);
      out.imbalance_minor = p.imbalance_minor();
      out.currency = Currency("journal_imbalance.currency", p.currency());
      return out;
    }
    case v1::EmitRequest::kExportCompleted: {
      const auto& p = request.export_completed();
      domain::ExportCompleted out;
      out.export_id = Text("export_completed.export_id", p.export_id(), true);
      out.kind = Text("export_completed.kind", p.kind(), false);
      out.download_url = HttpsUrl("export_completed.download_url", p.download_url());
      return out;
    }
    case v1::EmitRequest::kColdStartGraduated: {
      const auto& p = request.cold_start_graduated();
      domain::ColdStartGraduated out;
      out.model = Text("cold_start_graduated.model", p.model(), true);
      out.samples = NonNegative("cold_start_graduated.samples", p.samples());
      return out;
    }
    case v1::EmitRequest::TRIGGER_NOT_SET:
      break;
  }
  throw Error(ErrorCode::kInvalidArgument,
              "trigger is required: set one of psi_drift, llm_budget_fallback, "
              "journal_imbalance, export_completed, cold_start_graduated");
}

}  // namespace paybell::notifications

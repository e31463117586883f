// The stored-payload half of content.h: each trigger's fields as notification_log.payload JSON.
#include <nlohmann/json.hpp>
#include <string>
#include <type_traits>

#include "server/common/error.h"
#include "server/notifications/content.h"

namespace paybell::notifications {
namespace {

using domain::Trigger;
using nlohmann::json;

template <typename T>
inline constexpr bool kIsInvoiceProblem = std::is_base_of_v<domain::InvoiceProblem, T>;

template <typename T>
T Field(const json& j, const char* key) {
  return j.at(key).get<T>();
}

template <typename T>
T InvoiceProblemFrom(const json& j) {
  T e;
  e.event_id = Field<std::string>(j, "event_id");
  e.invoice_id = Field<std::string>(j, "invoice_id");
  e.hosted_invoice_url = Field<std::string>(j, "hosted_invoice_url");
  e.amount_due_minor = Field<int64_t>(j, "amount_due_minor");
  e.currency = Field<std::string>(j, "currency");
  return e;
}

}  // namespace

std::string PayloadJson(const domain::TriggerEvent& event) {
  return std::visit(
             [](const auto& e) -> json {
               using T = std::decay_t<decltype(e)>;
               if constexpr (std::is_same_v<T, domain::PsiDrift>) {
                 return {{"model", e.model}, {"feature_set", e.feature_set}, {"psi", e.psi}};
               } else if constexpr (std::is_same_v<T, domain::LlmBudgetFallback>) {
                 return {{"provider", e.provider},
                         {"fallback_model", e.fallback_model},
                         {"budget_minor", e.budget_minor},
                         {"spent_minor", e.spent_minor},
                         {"currency", e.currency}};
               } else if constexpr (std::is_same_v<T, domain::JournalImbalance>) {
                 return {{"journal_entry_id", e.journal_entry_id},
                         {"imbalance_minor", e.imbalance_minor},
                         {"currency", e.currency}};
               } else if constexpr (std::is_same_v<T, domain::ExportCompleted>) {
                 return {{"export_id", e.export_id},
                         {"kind", e.kind},
                         {"download_url", e.download_url}};
               } else if constexpr (std::is_same_v<T, domain::ColdStartGraduated>) {
                 return {{"model", e.model}, {"samples", e.samples}};
               } else if constexpr (kIsInvoiceProblem<T>) {
                 return {{"event_id", e.event_id},
                         {"invoice_id", e.invoice_id},
                         {"hosted_invoice_url", e.hosted_invoice_url},
                         {"amount_due_minor", e.amount_due_minor},
                         {"currency", e.currency}};
               } else {
                 return {{"event_id", e.event_id}, {"trial_end", e.trial_end}};
               }
             },
             event)
      .dump();
}

domain::TriggerEvent PayloadFromJson(domain::Trigger trigger, std::string_view text) {
  try {
    const json j = json::parse(text);
    switch (trigger) {
      case Trigger::kPsiDrift:
        return domain::PsiDrift{Field<std::string>(j, "model"),
                                Field<std::string>(j, "feature_set"), Field<double>(j, "psi")};
      case Trigger::kLlmBudgetFallback:
        return domain::LlmBudgetFallback{
            Field<std::string>(j, "provider"), Field<std::string>(j, "fallback_model"),
            Field<int64_t>(j, "budget_minor"), Field<int64_t>(j, "spent_minor"),
            Field<std::string>(j, "currency")};
      case Trigger::kJournalImbalance:
        return domain::JournalImbalance{Field<std::string>(j, "journal_entry_id"),
                                        Field<int64_t>(j, "imbalance_minor"),
                                        Field<std::string>(j, "currency")};
      case Trigger::kExportCompleted:
        return domain::ExportCompleted{Field<std::string>(j, "export_id"),
                                       Field<std::string>(j, "kind"),
                                       Field<std::string>(j, "download_url")};
      case Trigger::kColdStartGraduated:
        return domain::ColdStartGraduated{Field<std::string>(j, "model"),
                                          Field<int64_t>(j, "samples")};
      case Trigger::kPaymentFailed:
        return InvoiceProblemFrom<domain::PaymentFailed>(j);
      case Trigger::kPaymentActionRequired:
        return InvoiceProblemFrom<domain::PaymentActionRequired>(j);
      case Trigger::kTrialEnding:
        return domain::TrialEnding{Field<std::string>(j, "event_id"),
                                   Field<int64_t>(j, "trial_end")};
    }
  } catch (const json::exception& e) {
    throw common::Error(common::ErrorCode::kInternal,
                        "stored " + std::string(domain::TriggerWord(trigger)) +
                            " payload is not readable: " + e.what());
  }
  throw common::Error(common::ErrorCode::kInternal, "unknown trigger in a stored payload");
}

}  // namespace paybell::notifications

#include "server/domain/notification.h"

#include <utility>

#include "server/domain/words.h"

namespace paybell::domain {
namespace {

constexpr std::pair<Trigger, std::string_view> kTriggerWords[] = {
    {Trigger::kPsiDrift, "psi_drift"},
    {Trigger::kLlmBudgetFallback, "llm_budget_fallback"},
    {Trigger::kJournalImbalance, "journal_imbalance"},
    {Trigger::kExportCompleted, "export_completed"},
    {Trigger::kColdStartGraduated, "cold_start_graduated"},
    {Trigger::kPaymentFailed, "payment_failed"},
    {Trigger::kPaymentActionRequired, "payment_action_required"},
    {Trigger::kTrialEnding, "trial_ending"},
};

constexpr std::pair<Channel, std::string_view> kChannelWords[] = {
    {Channel::kEmail, "email"},
    {Channel::kSlack, "slack"},
};

constexpr std::pair<Decision, std::string_view> kDecisionWords[] = {
    {Decision::kQueued, "queued"},
    {Decision::kSuppressed, "suppressed"},
    {Decision::kDisabled, "disabled"},
    {Decision::kBelowThreshold, "below_threshold"},
    {Decision::kUnconfigured, "unconfigured"},
};

constexpr std::pair<DeliveryStatus, std::string_view> kDeliveryStatusWords[] = {
    {DeliveryStatus::kQueued, "queued"}, {DeliveryStatus::kSending, "sending"},
    {DeliveryStatus::kSent, "sent"},     {DeliveryStatus::kSuppressed, "suppressed"},
    {DeliveryStatus::kFailed, "failed"}, {DeliveryStatus::kDead, "dead"},
};

constexpr std::pair<LogKind, std::string_view> kLogKindWords[] = {
    {LogKind::kTrigger, "trigger"},
    {LogKind::kDigest, "digest"},
    {LogKind::kTest, "test"},
};

template <typename T>
struct TriggerOfType;
template <>
struct TriggerOfType<PsiDrift> {
  static constexpr Trigger value = Trigger::kPsiDrift;
};
template <>
struct TriggerOfType<LlmBudgetFallback> {
  static constexpr Trigger value = Trigger::kLlmBudgetFallback;
};
template <>
struct TriggerOfType<JournalImbalance> {
  static constexpr Trigger value = Trigger::kJournalImbalance;
};
template <>
struct TriggerOfType<ExportCompleted> {
  static constexpr Trigger value = Trigger::kExportCompleted;
};
template <>
struct TriggerOfType<ColdStartGraduated> {
  static constexpr Trigger value = Trigger::kColdStartGraduated;
};
template <>
struct TriggerOfType<PaymentFailed> {
  static constexpr Trigger value = Trigger::kPaymentFailed;
};
template <>
struct TriggerOfType<PaymentActionRequired> {
  static constexpr Trigger value = Trigger::kPaymentActionRequired;
};
template <>
struct TriggerOfType<TrialEnding> {
  static constexpr Trigger value = Trigger::kTrialEnding;
};

}  // namespace

std::string_view TriggerWord(Trigger trigger) { return WordOf(kTriggerWords, trigger); }
std::optional<Trigger> TriggerFromWord(std::string_view word) {
  return FromWord(kTriggerWords, word);
}
std::string_view ChannelWord(Channel channel) { return WordOf(kChannelWords, channel); }
std::optional<Channel> ChannelFromWord(std::string_view word) {
  return FromWord(kChannelWords, word);
}
std::string_view DecisionWord(Decision decision) { return WordOf(kDecisionWords, decision); }
std::string_view DeliveryStatusWord(DeliveryStatus status) {
  return WordOf(kDeliveryStatusWords, status);
}
std::optional<DeliveryStatus> DeliveryStatusFromWord(std::string_view word) {
  return FromWord(kDeliveryStatusWords, word);
}
std::string_view LogKindWord(LogKind kind) { return WordOf(kLogKindWords, kind); }
std::optional<LogKind> LogKindFromWord(std::string_view word) {
  return FromWord(kLogKindWords, word);
}

Trigger TriggerOf(const TriggerEvent& event) {
  return std::visit([](const auto& e) { return TriggerOfType<std::decay_t<decltype(e)>>::value; },
                    event);
}

}  // namespace paybell::domain

#include "server/domain/notification.h"

#include <iterator>
#include <type_traits>
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

// The variant lists each trigger's struct in the enum's order.
template <size_t I, typename T>
constexpr bool kAt = std::is_same_v<std::variant_alternative_t<I, TriggerEvent>, T>;
static_assert(kAt<0, PsiDrift> && kAt<1, LlmBudgetFallback> && kAt<2, JournalImbalance> &&
              kAt<3, ExportCompleted> && kAt<4, ColdStartGraduated> && kAt<5, PaymentFailed> &&
              kAt<6, PaymentActionRequired> && kAt<7, TrialEnding>);
static_assert(std::variant_size_v<TriggerEvent> == std::size(kAllTriggers));
static_assert(
    kAllTriggers[0] == Trigger::kPsiDrift && kAllTriggers[1] == Trigger::kLlmBudgetFallback &&
    kAllTriggers[2] == Trigger::kJournalImbalance && kAllTriggers[3] == Trigger::kExportCompleted &&
    kAllTriggers[4] == Trigger::kColdStartGraduated && kAllTriggers[5] == Trigger::kPaymentFailed &&
    kAllTriggers[6] == Trigger::kPaymentActionRequired && kAllTriggers[7] == Trigger::kTrialEnding);

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

Trigger TriggerOf(const TriggerEvent& event) { return kAllTriggers[event.index()]; }

}  // namespace paybell::domain

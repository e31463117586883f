#include "server/notifications/proto_mapping.h"

#include <utility>

namespace paybell::notifications {
namespace {

constexpr std::pair<domain::Trigger, v1::Trigger> kTriggers[] = {
    {domain::Trigger::kPsiDrift, v1::TRIGGER_PSI_DRIFT},
    {domain::Trigger::kLlmBudgetFallback, v1::TRIGGER_LLM_BUDGET_FALLBACK},
    {domain::Trigger::kJournalImbalance, v1::TRIGGER_JOURNAL_IMBALANCE},
    {domain::Trigger::kExportCompleted, v1::TRIGGER_EXPORT_COMPLETED},
    {domain::Trigger::kColdStartGraduated, v1::TRIGGER_COLD_START_GRADUATED},
    {domain::Trigger::kPaymentFailed, v1::TRIGGER_PAYMENT_FAILED},
    {domain::Trigger::kPaymentActionRequired, v1::TRIGGER_PAYMENT_ACTION_REQUIRED},
    {domain::Trigger::kTrialEnding, v1::TRIGGER_TRIAL_ENDING},
};

constexpr std::pair<domain::Channel, v1::Channel> kChannels[] = {
    {domain::Channel::kEmail, v1::CHANNEL_EMAIL},
    {domain::Channel::kSlack, v1::CHANNEL_SLACK},
};

constexpr std::pair<domain::Decision, v1::Decision> kDecisions[] = {
    {domain::Decision::kQueued, v1::DECISION_QUEUED},
    {domain::Decision::kSuppressed, v1::DECISION_SUPPRESSED},
    {domain::Decision::kDisabled, v1::DECISION_DISABLED},
    {domain::Decision::kBelowThreshold, v1::DECISION_BELOW_THRESHOLD},
    {domain::Decision::kUnconfigured, v1::DECISION_UNCONFIGURED},
};

template <typename Domain, typename Proto, size_t N>
Proto ToProto(const std::pair<Domain, Proto> (&table)[N], Domain value, Proto unspecified) {
  for (const auto& [d, p] : table) {
    if (d == value) return p;
  }
  return unspecified;
}

template <typename Domain, typename Proto, size_t N>
std::optional<Domain> FromProto(const std::pair<Domain, Proto> (&table)[N], int value) {
  for (const auto& [d, p] : table) {
    if (static_cast<int>(p) == value) return d;
  }
  return std::nullopt;
}

}  // namespace

v1::Trigger TriggerToProto(domain::Trigger trigger) {
  return ToProto(kTriggers, trigger, v1::TRIGGER_UNSPECIFIED);
}
std::optional<domain::Trigger> TriggerFromProto(int trigger) {
  return FromProto(kTriggers, trigger);
}
v1::Channel ChannelToProto(domain::Channel channel) {
  return ToProto(kChannels, channel, v1::CHANNEL_UNSPECIFIED);
}
std::optional<domain::Channel> ChannelFromProto(int channel) {
  return FromProto(kChannels, channel);
}
v1::Decision DecisionToProto(domain::Decision decision) {
  return ToProto(kDecisions, decision, v1::DECISION_UNSPECIFIED);
}

}  // namespace paybell::notifications

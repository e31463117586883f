#include "server/notifications/rules.h"

#include <type_traits>

namespace paybell::notifications {

bool RuleFires(const domain::TriggerEvent& event, const domain::NotificationSettings& settings) {
  return std::visit(
      [&](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, domain::PsiDrift>) {
          return e.psi > settings.psi_threshold;
        } else if constexpr (std::is_same_v<T, domain::JournalImbalance>) {
          return e.imbalance_minor != 0;
        } else {
          return true;
        }
      },
      event);
}

std::optional<domain::Decision> DecideBeforeDebounce(domain::Channel channel,
                                                     const domain::TriggerEvent& event,
                                                     const domain::NotificationSettings& settings) {
  if (!RuleFires(event, settings)) return domain::Decision::kBelowThreshold;
  const bool channel_on =
      channel == domain::Channel::kEmail ? settings.email_enabled : settings.slack_enabled;
  if (!channel_on || settings.disabled_triggers.count(domain::TriggerOf(event)) > 0) {
    return domain::Decision::kDisabled;
  }
  const bool configured = channel == domain::Channel::kEmail ? !settings.email_recipients.empty()
                                                             : !settings.slack_webhook_url.empty();
  if (!configured) return domain::Decision::kUnconfigured;
  return std::nullopt;
}

}  // namespace paybell::notifications

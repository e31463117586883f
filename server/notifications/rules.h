// Whether a trigger is worth a message, and what Emit decides for one channel before the
// debounce has its say. Pure functions over domain values.
#pragma once

#include <optional>

#include "server/domain/notification.h"

namespace paybell::notifications {

// The trigger's own rule: psi_drift fires when psi is strictly greater than the tenant's
// threshold (0.20 does not fire at 0.20, 0.2000001 does); journal_imbalance when the
// imbalance is not zero, either sign; every other trigger always fires.
bool RuleFires(const domain::TriggerEvent& event, const domain::NotificationSettings& settings);

// The decision for `channel` that needs no debounce, checked in this order (the first that
// applies wins):
//   1. kBelowThreshold: the trigger's rule does not fire (whatever the channel settings);
//   2. kDisabled: the channel is switched off, or the trigger is in disabled_triggers;
//   3. kUnconfigured: the channel is on but has nowhere to send to (email without
//      recipients, Slack without a webhook URL);
// nullopt when the event goes on to the debounce (queued or suppressed there). A Slack URL
// flagged broken still goes on: the flag is shown to the tenant, and the dispatcher's next
// attempt records what Slack says.
std::optional<domain::Decision> DecideBeforeDebounce(domain::Channel channel,
                                                     const domain::TriggerEvent& event,
                                                     const domain::NotificationSettings& settings);

}  // namespace paybell::notifications

// A tenant's notification settings between the gRPC API and the domain: validation and
// normalisation of an update, the masked read-back, and the audit record of a change.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "paybell/v1/notification.pb.h"
#include "server/common/config.h"
#include "server/domain/notification.h"

namespace paybell::notifications {

inline constexpr int kMaxEmailRecipients = 20;

// Normalises one address, or nullopt when it is not one Paybell sends to: a dot-atom local part
// (at most 64 bytes; no quoted strings) "@" a DNS domain (lower-cased; no address literals),
// ASCII only, at most 254 bytes, no spaces or control characters. Surrounding spaces are
// trimmed.
std::optional<std::string> NormaliseEmailAddress(std::string_view address);

// The settings `update` asks for, checked and normalised, on top of what is `stored` (the
// defaults for a tenant that never saved). Throws common::Error(kInvalidArgument) naming the
// field. Decisions:
//   - tenant_id is checked like every tenant id;
//   - email_recipients: each normalised (NormaliseEmailAddress), duplicates dropped keeping the
//     first, at most 20 after that. An empty list is allowed, also with email on: Emit then
//     decides `unconfigured` for email, as for a tenant that never saved;
//   - slack_webhook_url: empty clears it; the masked form of the stored URL keeps it (and its
//     broken flag); anything else must pass CheckSlackWebhookUrl and is stored normalised. A
//     URL different from the stored one clears slack_broken. Slack on without a URL is allowed
//     (`unconfigured`);
//   - psi_threshold: 0 means the default (0.20); otherwise finite, > 0 and <= 10;
//   - disabled_triggers: known triggers only (not TRIGGER_UNSPECIFIED), duplicates dropped;
//   - slack_broken and updated_at in the update are ignored (output only); updated_at is
//     copied from `stored`: the caller stamps it when it saves.
domain::NotificationSettings SettingsFromUpdate(const v1::NotificationSettings& update,
                                                const domain::NotificationSettings& stored,
                                                const common::Config& config);

// The settings as GetSettings answers them: the Slack URL masked (MaskSlackUrl), updated_at
// unset when never saved, disabled triggers in enum order.
v1::NotificationSettings SettingsToProto(const domain::NotificationSettings& settings);

// A JSON object naming what changed between two versions, for audit_log.detail, e.g.
// {"email_recipients":{"added":["b@x.io"],"removed":[]},"psi_threshold":{"before":0.2,
// "after":0.3},"slack_webhook_url":"changed"}. Keys appear only for fields that changed;
// "{}" when nothing did. The Slack URL is never in it, neither whole nor masked.
std::string AuditDetail(const domain::NotificationSettings& before,
                        const domain::NotificationSettings& after);

}  // namespace paybell::notifications

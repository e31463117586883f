// What a notification says: its stored payload (JSON), one-line summary, and the email and
// Slack message rendered from mustache templates (HTML-escaped). Pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "server/domain/notification.h"

namespace paybell::notifications {

// The trigger's fields as stored in notification_log.payload, and back. PayloadFromJson throws
// common::Error(kInternal) when the JSON does not hold that trigger's fields.
std::string PayloadJson(const domain::TriggerEvent& event);
domain::TriggerEvent PayloadFromJson(domain::Trigger trigger, std::string_view json);

// One line for people, in the log and the settings page ("PSI 0.31 on model-a (invoices)").
std::string Summary(const domain::TriggerEvent& event);

struct RenderContext {
  std::string tenant_id;
  std::string app_url;  // APP_URL: links go to {app_url}/settings/notifications and /billing
};

struct RenderedMessage {
  std::string subject;     // email subject (UTF-8)
  std::string text;        // email text part
  std::string html;        // email HTML part (every value HTML-escaped)
  std::string slack_json;  // Slack incoming-webhook body: {"text": …, "blocks": […]}
};

RenderedMessage RenderTrigger(const domain::TriggerEvent& event, const RenderContext& context);
// The summary after a debounce window: `count` events of `trigger` were suppressed, `items`
// (at most 20 listed) are the first of them; "and N more" when count > items.size().
RenderedMessage RenderDigest(domain::Trigger trigger,
                             const std::vector<domain::TriggerEvent>& items, int count,
                             int64_t window_s, const RenderContext& context);
// SendTest's message, marked as a test.
RenderedMessage RenderTest(domain::Channel channel, const RenderContext& context);

}  // namespace paybell::notifications

// Deciding what one trigger becomes, per channel, and recording it in the outbox: the rule, the
// tenant's settings, then the debounce window (one message per tenant, trigger and channel per
// PAYBELL_DEBOUNCE_S; later ones are logged suppressed and summarised in a digest when the
// window closes). Runs inside the caller's unit of work, so the rows commit or roll back with
// whatever raised the trigger (a Stripe event's effects, an Emit call).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "db/unit_of_work.h"
#include "server/common/config.h"
#include "server/domain/notification.h"

namespace paybell::notifications {

struct ChannelOutcome {
  domain::Channel channel = domain::Channel::kEmail;
  domain::Decision decision = domain::Decision::kQueued;
  int64_t log_id = 0;  // the notification_log row written for this decision
};

class Emitter {
 public:
  // `email_available`: SMTP_URL is set; without it the email channel is off for every tenant
  // (decision disabled).
  Emitter(const common::Config& config, bool email_available);

  // Decides `event` for `tenant_id` on each channel and writes one notification_log row per
  // channel (queued rows are due at `now`). `source_event_id`: the Stripe event a billing
  // trigger comes from; a channel already logged for that event and trigger is skipped, so a
  // replayed or redelivered event notifies once. Call inside a write unit that holds the
  // tenant's lock.
  std::vector<ChannelOutcome> Emit(db::UnitOfWork& unit, const std::string& tenant_id,
                                   const domain::TriggerEvent& event, int64_t now,
                                   const std::string& source_event_id = "");

  // Queues the digest of every window that closed with suppressed events (at most `limit`);
  // returns how many were queued. Emit queues the digest of a window it closes itself; this
  // covers windows no later event closes.
  int QueueClosedWindowDigests(db::UnitOfWork& unit, int64_t now, int limit);

  int64_t debounce_s() const { return debounce_s_; }

 private:
  void QueueDigest(db::UnitOfWork& unit, const db::ClosedWindow& window, int64_t now);

  int64_t debounce_s_;
  bool email_available_;
};

// What a digest row's payload holds: the suppressed events (their payloads, at most
// kMaxDigestItems) and how many there were.
inline constexpr int kMaxDigestItems = 20;
struct DigestPayload {
  int count = 0;
  int64_t window_started_at = 0;
  std::vector<domain::TriggerEvent> items;
};
std::string DigestPayloadJson(const db::ClosedWindow& window,
                              const std::vector<db::NotificationLogRow>& suppressed);
DigestPayload DigestPayloadFromJson(domain::Trigger trigger, const std::string& json);

}  // namespace paybell::notifications

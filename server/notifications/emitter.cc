#include "server/notifications/emitter.h"

#include <nlohmann/json.hpp>

#include "server/common/error.h"
#include "server/notifications/content.h"
#include "server/notifications/rules.h"

namespace paybell::notifications {
namespace {

using domain::Channel;
using domain::Decision;
using domain::DeliveryStatus;
using nlohmann::json;

db::NotificationLogRow NewRow(const std::string& tenant_id, domain::LogKind kind,
                              std::optional<domain::Trigger> trigger, Channel channel,
                              Decision decision, int64_t now) {
  db::NotificationLogRow row;
  row.tenant_id = tenant_id;
  row.kind = kind;
  row.trigger = trigger;
  row.channel = channel;
  row.decision = decision;
  row.status =
      decision == Decision::kQueued ? DeliveryStatus::kQueued : DeliveryStatus::kSuppressed;
  if (decision == Decision::kQueued) row.next_attempt_at = now;
  row.created_at = now;
  return row;
}

}  // namespace

Emitter::Emitter(const common::Config& config, bool email_available)
    : debounce_s_(config.debounce_s), email_available_(email_available) {}

std::vector<ChannelOutcome> Emitter::Emit(db::UnitOfWork& unit, const std::string& tenant_id,
                                          const domain::TriggerEvent& event, int64_t now,
                                          const std::string& source_event_id) {
  db::NotificationRepository& store = unit.notifications();
  const domain::NotificationSettings settings = db::SettingsOrDefaults(store, tenant_id);

  const domain::Trigger trigger = domain::TriggerOf(event);
  const std::string payload = PayloadJson(event);
  const std::string summary = Summary(event);
  std::vector<ChannelOutcome> outcomes;
  for (const Channel channel : domain::kAllChannels) {
    std::optional<std::string> dedupe_key;
    if (!source_event_id.empty()) {
      dedupe_key = std::string(domain::TriggerWord(trigger)) + ":" + source_event_id + ":" +
                   std::string(domain::ChannelWord(channel));
      if (store.HasDedupeKey(*dedupe_key)) continue;  // this event was notified already
    }
    std::optional<Decision> decision = DecideBeforeDebounce(channel, event, settings);
    if (!decision && channel == Channel::kEmail && !email_available_) {
      decision = Decision::kDisabled;  // SMTP_URL unset: email is off for everyone
    }
    if (!decision) {
      const db::DebounceOutcome debounce =
          store.Debounce({tenant_id, trigger, channel}, now, debounce_s_);
      if (debounce.closed) QueueDigest(unit, *debounce.closed, now);
      decision = debounce.fire ? Decision::kQueued : Decision::kSuppressed;
    }
    db::NotificationLogRow row =
        NewRow(tenant_id, domain::LogKind::kTrigger, trigger, channel, *decision, now);
    row.payload = payload;
    row.summary = summary;
    row.dedupe_key = dedupe_key;
    const std::optional<int64_t> id = store.Append(row);
    if (!id) continue;  // a concurrent delivery of the same event logged it first
    outcomes.push_back({channel, *decision, *id});
  }
  return outcomes;
}

int Emitter::QueueClosedWindowDigests(db::UnitOfWork& unit, int64_t now, int limit) {
  const std::vector<db::ClosedWindow> windows =
      unit.notifications().TakeClosedWindows(now, debounce_s_, limit);
  for (const db::ClosedWindow& window : windows) QueueDigest(unit, window, now);
  return static_cast<int>(windows.size());
}

void Emitter::QueueDigest(db::UnitOfWork& unit, const db::ClosedWindow& window, int64_t now) {
  db::NotificationRepository& store = unit.notifications();
  const std::vector<db::NotificationLogRow> suppressed =
      store.ListSuppressed(window.key, window.window_started_at,
                           window.window_started_at + debounce_s_, kMaxDigestItems);
  db::NotificationLogRow row =
      NewRow(window.key.tenant_id, domain::LogKind::kDigest, window.key.trigger, window.key.channel,
             Decision::kQueued, now);
  row.payload = DigestPayloadJson(window, suppressed);
  row.summary = std::to_string(window.suppressed_count) + " more " +
                std::string(domain::TriggerWord(window.key.trigger)) + " in the window";
  store.Append(row);
}

std::string DigestPayloadJson(const db::ClosedWindow& window,
                              const std::vector<db::NotificationLogRow>& suppressed) {
  json items = json::array();
  for (const db::NotificationLogRow& row : suppressed) {
    json item = json::parse(row.payload, nullptr, /*allow_exceptions=*/false);
    if (!item.is_discarded()) items.push_back(std::move(item));
  }
  return json{{"count", window.suppressed_count},
              {"window_started_at", window.window_started_at},
              {"items", std::move(items)}}
      .dump();
}

DigestPayload DigestPayloadFromJson(domain::Trigger trigger, const std::string& text) {
  const json root = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!root.is_object() || !root.contains("count") || !root["count"].is_number_integer() ||
      !root.contains("items") || !root["items"].is_array()) {
    throw common::Error(common::ErrorCode::kInternal, "a digest's stored payload is malformed");
  }
  DigestPayload digest;
  digest.count = root["count"].get<int>();
  digest.window_started_at = root.value("window_started_at", int64_t{0});
  for (const json& item : root["items"]) {
    digest.items.push_back(PayloadFromJson(trigger, item.dump()));
  }
  return digest;
}

}  // namespace paybell::notifications

// SociNotificationRepository, part 1: settings (tenant_notifications) and debounce windows
// (notification_debounce). The log and outbox are in notification_log.cc.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>

#include "db/row_access.h"
#include "db/soci_repositories.h"

namespace paybell::db {
namespace {

using domain::Trigger;

constexpr std::string_view kFindSettings = R"sql(
SELECT tenant_id, email_enabled, email_recipients, slack_enabled, slack_webhook_url, slack_broken,
  psi_threshold, disabled_triggers, updated_at
FROM tenant_notifications WHERE tenant_id = :tenant_id)sql";

constexpr std::string_view kFindSettingsManyHead = R"sql(
SELECT tenant_id, email_enabled, email_recipients, slack_enabled, slack_webhook_url, slack_broken,
  psi_threshold, disabled_triggers, updated_at
FROM tenant_notifications WHERE tenant_id IN ()sql";

constexpr std::string_view kSaveSettings = R"sql(
INSERT INTO tenant_notifications (tenant_id, email_enabled, email_recipients, slack_enabled,
  slack_webhook_url, slack_broken, psi_threshold, disabled_triggers, updated_at, updated_by)
VALUES (:tenant_id, :email_enabled, :email_recipients, :slack_enabled, :slack_webhook_url,
  :slack_broken, :psi_threshold, :disabled_triggers, :updated_at, :updated_by)
ON CONFLICT (tenant_id) DO UPDATE SET
  email_enabled = excluded.email_enabled,
  email_recipients = excluded.email_recipients,
  slack_enabled = excluded.slack_enabled,
  slack_webhook_url = excluded.slack_webhook_url,
  slack_broken = excluded.slack_broken,
  psi_threshold = excluded.psi_threshold,
  disabled_triggers = excluded.disabled_triggers,
  updated_at = excluded.updated_at,
  updated_by = excluded.updated_by)sql";

constexpr std::string_view kMarkSlackBroken =
    "UPDATE tenant_notifications SET slack_broken = 1 "
    "WHERE tenant_id = :tenant_id AND slack_webhook_url = :url";

// The debounce decision as one conditional write, the same on both engines. A concurrent caller
// of the same key waits on the row (PostgreSQL's ON CONFLICT takes the row lock and then
// evaluates the update on the latest committed version; SQLite has one writer), so exactly one
// caller per window opens it. A window is ended when it started at or before :cutoff
// (now - window_s). Opening a window sets the count to 0 and every suppressed event makes it
// at least 1, so the count the write returns tells which branch ran. RETURNING answers the
// new values, so the window being closed is copied into closed_* by the same write. A window
// TakeClosedWindows digested (closed_window_started_at = window_started_at) counts as ended
// too, even for a caller whose clock still puts it inside: its suppressed events were
// summarised already, and counting more into it would list them in a second digest.
constexpr std::string_view kDebounce = R"sql(
INSERT INTO notification_debounce (tenant_id, trigger_kind, channel, window_started_at,
  suppressed_count, closed_window_started_at, closed_suppressed_count)
VALUES (:tenant_id, :trigger_kind, :channel, :now, 0, NULL, 0)
ON CONFLICT (tenant_id, trigger_kind, channel) DO UPDATE SET
  closed_window_started_at = CASE WHEN (notification_debounce.window_started_at <= :cutoff1
      OR notification_debounce.closed_window_started_at = notification_debounce.window_started_at)
    THEN notification_debounce.window_started_at
    ELSE notification_debounce.closed_window_started_at END,
  closed_suppressed_count = CASE WHEN (notification_debounce.window_started_at <= :cutoff2
      OR notification_debounce.closed_window_started_at = notification_debounce.window_started_at)
    THEN notification_debounce.suppressed_count ELSE 0 END,
  window_started_at = CASE WHEN (notification_debounce.window_started_at <= :cutoff3
      OR notification_debounce.closed_window_started_at = notification_debounce.window_started_at)
    THEN excluded.window_started_at ELSE notification_debounce.window_started_at END,
  suppressed_count = CASE WHEN (notification_debounce.window_started_at <= :cutoff4
      OR notification_debounce.closed_window_started_at = notification_debounce.window_started_at)
    THEN 0 ELSE notification_debounce.suppressed_count + 1 END
RETURNING suppressed_count, closed_window_started_at, closed_suppressed_count)sql";

// Ended windows with suppressed events: the count moves to closed_suppressed_count and is
// reset, so no one takes the window twice. One statement: head + SkipLockedRows(kind) + tail.
constexpr std::string_view kTakeClosedHead = R"sql(
WITH ended AS MATERIALIZED (
  SELECT tenant_id, trigger_kind, channel FROM notification_debounce
  WHERE window_started_at <= :cutoff1 AND suppressed_count > 0
  ORDER BY window_started_at LIMIT :limit)sql";
constexpr std::string_view kTakeClosedTail = R"sql()
UPDATE notification_debounce SET closed_window_started_at = window_started_at,
  closed_suppressed_count = suppressed_count, suppressed_count = 0
WHERE (tenant_id, trigger_kind, channel) IN (SELECT tenant_id, trigger_kind, channel FROM ended)
  AND window_started_at <= :cutoff2 AND suppressed_count > 0
RETURNING tenant_id, trigger_kind, channel, closed_window_started_at, closed_suppressed_count)sql";

nlohmann::json ParseJsonArray(const std::string& text, const std::string& tenant_id,
                              std::string_view column) {
  nlohmann::json parsed = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_array()) {
    throw std::runtime_error("tenant_notifications row of " + tenant_id + " has a " +
                             std::string(column) + " that is not a JSON array");
  }
  return parsed;
}

domain::NotificationSettings SettingsFrom(const soci::row& row) {
  domain::NotificationSettings s;
  s.tenant_id = GetString(row, "tenant_id");
  s.email_enabled = GetInt(row, "email_enabled") != 0;
  for (const auto& address :
       ParseJsonArray(GetString(row, "email_recipients"), s.tenant_id, "email_recipients")) {
    if (address.is_string()) s.email_recipients.push_back(address.get<std::string>());
  }
  s.slack_enabled = GetInt(row, "slack_enabled") != 0;
  s.slack_webhook_url = GetString(row, "slack_webhook_url");
  s.slack_broken = GetInt(row, "slack_broken") != 0;
  s.psi_threshold = GetDouble(row, "psi_threshold");
  for (const auto& word :
       ParseJsonArray(GetString(row, "disabled_triggers"), s.tenant_id, "disabled_triggers")) {
    // A word this binary does not know (written by a newer one) switches nothing off here.
    if (!word.is_string()) continue;
    if (auto trigger = domain::TriggerFromWord(word.get<std::string>())) {
      s.disabled_triggers.insert(*trigger);
    }
  }
  s.updated_at = GetInt(row, "updated_at");
  return s;
}

std::string JsonText(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

SociNotificationRepository::SociNotificationRepository(soci::session& session, DatabaseKind kind)
    : session_(session), kind_(kind) {}

SociNotificationRepository::~SociNotificationRepository() = default;

std::optional<domain::NotificationSettings> SociNotificationRepository::FindSettings(
    const std::string& tenant_id) {
  Bound& v = bound_;
  v.tenant_id = tenant_id;
  std::optional<domain::NotificationSettings> found;
  find_settings_.QueryOne(
      session_,
      [&](soci::session& s) {
        return (s.prepare << kFindSettings, soci::use(v.tenant_id),
                soci::into(find_settings_.row()));
      },
      [&] { found = SettingsFrom(find_settings_.row()); });
  return found;
}

std::map<std::string, domain::NotificationSettings> SociNotificationRepository::FindSettingsMany(
    const std::vector<std::string>& tenant_ids) {
  std::map<std::string, domain::NotificationSettings> found;
  if (tenant_ids.empty()) return found;
  Bound& v = bound_;
  v.ids = JsonText(nlohmann::json(tenant_ids));
  find_settings_many_.QueryAll(
      session_,
      [&](soci::session& s) {
        const std::string sql =
            std::string(kFindSettingsManyHead) + std::string(JsonTextElements(kind_)) + ")";
        return (s.prepare << sql, soci::use(v.ids), soci::into(find_settings_many_.row()));
      },
      [&] {
        domain::NotificationSettings settings = SettingsFrom(find_settings_many_.row());
        std::string tenant_id = settings.tenant_id;
        found.emplace(std::move(tenant_id), std::move(settings));
      });
  return found;
}

void SociNotificationRepository::SaveSettings(const domain::NotificationSettings& settings,
                                              const std::string& updated_by) {
  // A person saving a form: a one-shot statement is fine.
  int email_enabled = settings.email_enabled ? 1 : 0;
  int slack_enabled = settings.slack_enabled ? 1 : 0;
  int slack_broken = settings.slack_broken ? 1 : 0;
  double psi_threshold = settings.psi_threshold;
  long long updated_at = settings.updated_at;
  const std::string recipients = JsonText(nlohmann::json(settings.email_recipients));
  nlohmann::json words = nlohmann::json::array();
  for (Trigger t : settings.disabled_triggers) words.push_back(std::string(domain::TriggerWord(t)));
  const std::string disabled = JsonText(words);
  session_ << kSaveSettings, soci::use(settings.tenant_id), soci::use(email_enabled),
      soci::use(recipients), soci::use(slack_enabled), soci::use(settings.slack_webhook_url),
      soci::use(slack_broken), soci::use(psi_threshold), soci::use(disabled), soci::use(updated_at),
      soci::use(updated_by);
}

void SociNotificationRepository::MarkSlackBroken(const std::string& tenant_id,
                                                 const std::string& url) {
  session_ << kMarkSlackBroken, soci::use(tenant_id), soci::use(url);
}

DebounceOutcome SociNotificationRepository::Debounce(const DebounceKey& key, int64_t now,
                                                     int64_t window_s) {
  Bound& v = bound_;
  v.tenant_id = key.tenant_id;
  v.trigger = std::string(domain::TriggerWord(key.trigger));
  v.channel = std::string(domain::ChannelWord(key.channel));
  v.now = now;
  v.cutoff = now - window_s;
  DebounceOutcome outcome;
  const bool wrote = debounce_.QueryOne(
      session_,
      [&](soci::session& s) {
        return (s.prepare << kDebounce, soci::use(v.tenant_id), soci::use(v.trigger),
                soci::use(v.channel), soci::use(v.now), soci::use(v.cutoff), soci::use(v.cutoff),
                soci::use(v.cutoff), soci::use(v.cutoff), soci::into(debounce_.row()));
      },
      [&] {
        const soci::row& row = debounce_.row();
        outcome.fire = GetInt(row, "suppressed_count") == 0;
        const int64_t closed_count = GetInt(row, "closed_suppressed_count");
        if (outcome.fire && closed_count > 0) {
          outcome.closed = ClosedWindow{key, GetInt(row, "closed_window_started_at"),
                                        static_cast<int>(closed_count)};
        }
      });
  if (!wrote) throw std::runtime_error("the debounce upsert returned no row");
  return outcome;
}

std::vector<ClosedWindow> SociNotificationRepository::TakeClosedWindows(int64_t now,
                                                                        int64_t window_s,
                                                                        int limit) {
  Bound& v = bound_;
  v.cutoff = now - window_s;
  v.limit = limit;
  std::vector<ClosedWindow> out;
  take_closed_.QueryAll(
      session_,
      [&](soci::session& s) {
        const std::string sql = std::string(kTakeClosedHead) + std::string(SkipLockedRows(kind_)) +
                                std::string(kTakeClosedTail);
        return (s.prepare << sql, soci::use(v.cutoff), soci::use(v.limit), soci::use(v.cutoff),
                soci::into(take_closed_.row()));
      },
      [&] {
        const soci::row& row = take_closed_.row();
        ClosedWindow w;
        w.key.tenant_id = GetString(row, "tenant_id");
        const std::string trigger = GetString(row, "trigger_kind");
        const std::string channel = GetString(row, "channel");
        const auto parsed_trigger = domain::TriggerFromWord(trigger);
        const auto parsed_channel = domain::ChannelFromWord(channel);
        if (!parsed_trigger || !parsed_channel) {
          throw std::runtime_error("notification_debounce row of " + w.key.tenant_id +
                                   " has trigger '" + trigger + "' / channel '" + channel + "'");
        }
        w.key.trigger = *parsed_trigger;
        w.key.channel = *parsed_channel;
        w.window_started_at = GetInt(row, "closed_window_started_at");
        w.suppressed_count = static_cast<int>(GetInt(row, "closed_suppressed_count"));
        out.push_back(std::move(w));
      });
  std::sort(out.begin(), out.end(), [](const ClosedWindow& a, const ClosedWindow& b) {
    return a.window_started_at < b.window_started_at;
  });
  return out;
}

void SociNotificationRepository::ForgetServerStatements(bool postgres) {
  for (PreparedStatement* p : {&find_settings_, &debounce_, &take_closed_, &append_,
                               &has_dedupe_key_, &claim_due_, &mark_sent_, &mark_retry_,
                               &mark_dead_, &find_settings_many_, &mark_sent_many_, &release_}) {
    p->ForgetOnServer(postgres);
  }
}

}  // namespace paybell::db

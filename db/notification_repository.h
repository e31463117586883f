// Notification storage: tenant settings (tenant_notifications), the outbox and log
// (notification_log: one row per trigger per channel, whatever was decided) and the debounce
// windows (notification_debounce). Bound to a unit of work like every repository.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "server/domain/notification.h"

namespace paybell::db {

// One notification_log row.
struct NotificationLogRow {
  int64_t id = 0;
  std::string tenant_id;
  domain::LogKind kind = domain::LogKind::kTrigger;
  // The trigger (for a digest: the trigger it summarises); nullopt for a test.
  std::optional<domain::Trigger> trigger;
  domain::Channel channel = domain::Channel::kEmail;
  // What Emit decided; kQueued for rows meant to be sent (digests and tests too).
  domain::Decision decision = domain::Decision::kQueued;
  // kQueued for a row to send; kSuppressed for every decision but kQueued.
  domain::DeliveryStatus status = domain::DeliveryStatus::kQueued;
  int attempts = 0;
  std::optional<int64_t> next_attempt_at;  // Unix seconds; when a queued/failed row is due
  std::string last_error;
  std::string payload;  // JSON: the trigger's fields (notifications/payload.h)
  // Unique when set: a trigger raised from a Stripe event is logged once per event and channel,
  // also when the event is replayed ("payment_failed:evt_…:email").
  std::optional<std::string> dedupe_key;
  std::string summary;  // one line for people ("PSI 0.31 on model-a (invoices)")
  int64_t created_at = 0;
  std::optional<int64_t> sent_at;
};

struct DebounceKey {
  std::string tenant_id;
  domain::Trigger trigger = domain::Trigger::kPsiDrift;
  domain::Channel channel = domain::Channel::kEmail;
};

// A debounce window that ended with suppressed events not yet summarised in a digest.
struct ClosedWindow {
  DebounceKey key;
  int64_t window_started_at = 0;
  int suppressed_count = 0;
};

struct DebounceOutcome {
  // True: this event opened a new window and is sent; false: it falls in an open window and is
  // suppressed (counted in the window).
  bool fire = false;
  // When `fire` and the previous window had suppressed events not yet digested: that window.
  // Its count is consumed by this call, so the caller writes the digest in the same transaction
  // and nobody else does.
  std::optional<ClosedWindow> closed;
};

struct NotificationLogFilter {
  std::optional<std::string> tenant_id;  // nullopt: every tenant (operators)
  std::optional<domain::Trigger> trigger;
  std::optional<domain::Channel> channel;
  std::optional<domain::DeliveryStatus> status;
  std::optional<int64_t> since;      // created_at >= since
  std::optional<int64_t> until;      // created_at < until
  std::optional<int64_t> before_id;  // id < before_id (the page cursor)
  int limit = 50;
};

class NotificationRepository {
 public:
  virtual ~NotificationRepository() = default;

  // Settings; nullopt when the tenant never saved any (the caller uses the defaults).
  virtual std::optional<domain::NotificationSettings> FindSettings(
      const std::string& tenant_id) = 0;
  // The saved settings of each of `tenant_ids` that has any, in one query (the dispatcher reads
  // a whole claimed batch's tenants at once).
  virtual std::map<std::string, domain::NotificationSettings> FindSettingsMany(
      const std::vector<std::string>& tenant_ids) {
    std::map<std::string, domain::NotificationSettings> found;
    for (const std::string& tenant_id : tenant_ids) {
      if (auto settings = FindSettings(tenant_id)) found.emplace(tenant_id, std::move(*settings));
    }
    return found;
  }
  // Inserts or replaces the tenant's row with `settings` (slack_broken and updated_at as given).
  virtual void SaveSettings(const domain::NotificationSettings& settings,
                            const std::string& updated_by) = 0;
  // Flags the tenant's Slack URL broken, only while the stored URL is still `url` (a tenant who
  // replaced it meanwhile keeps a clean flag). No-op without a row.
  virtual void MarkSlackBroken(const std::string& tenant_id, const std::string& url) = 0;

  // The debounce decision for one key as one conditional write, safe under concurrent calls
  // and across replicas: opens a new window at `now` when none is open (no row yet, or the
  // open one started at or before now - window_s) and answers fire; otherwise counts one more
  // suppressed event in the open window and answers !fire.
  virtual DebounceOutcome Debounce(const DebounceKey& key, int64_t now, int64_t window_s) = 0;
  // Windows that ended (started at or before now - window_s) with suppressed events not yet
  // digested, at most `limit`. Each returned window is consumed (its count reset) in this
  // transaction, so concurrent callers never both get it.
  virtual std::vector<ClosedWindow> TakeClosedWindows(int64_t now, int64_t window_s, int limit) = 0;

  // Appends a row and returns its id; with a dedupe_key already stored, writes nothing and
  // returns nullopt.
  virtual std::optional<int64_t> Append(const NotificationLogRow& row) = 0;
  virtual std::optional<NotificationLogRow> Find(int64_t id) = 0;
  virtual bool HasDedupeKey(const std::string& dedupe_key) = 0;
  // Suppressed rows (decision kSuppressed) of one key created in [from, to), oldest first, at
  // most `limit`: what a digest lists.
  virtual std::vector<NotificationLogRow> ListSuppressed(const DebounceKey& key, int64_t from,
                                                         int64_t to, int limit) = 0;

  // Claims up to `limit` rows due for sending: status queued or failed with next_attempt_at <=
  // now, or sending with an expired lease (claimed_until <= now: its claimer died). Marks them
  // sending, claimed_by = `claimer`, claimed_until = now + lease_s, attempts + 1, and returns
  // them as claimed. PostgreSQL: FOR UPDATE SKIP LOCKED, so concurrent claimers (threads or
  // replicas) get disjoint rows.
  virtual std::vector<NotificationLogRow> ClaimDue(const std::string& claimer, int64_t now,
                                                   int64_t lease_s, int limit) = 0;
  // Record an attempt's result, only while the row is still `claimer`'s claim (status sending,
  // claimed_by = claimer); false when it is not (the lease expired and another claimer took
  // it). Sent: status sent, sent_at. Retry: status failed, last_error, next_attempt_at. Dead:
  // status dead, last_error.
  virtual bool MarkSent(int64_t id, const std::string& claimer, int64_t now) = 0;
  virtual bool MarkRetry(int64_t id, const std::string& claimer, const std::string& error,
                         int64_t next_attempt_at) = 0;
  virtual bool MarkDead(int64_t id, const std::string& claimer, const std::string& error) = 0;
  // MarkSent for several rows of one claim in one statement; returns the ids recorded (those
  // still `claimer`'s).
  virtual std::vector<int64_t> MarkSentMany(const std::vector<int64_t>& ids,
                                            const std::string& claimer, int64_t now) {
    std::vector<int64_t> recorded;
    for (int64_t id : ids) {
      if (MarkSent(id, claimer, now)) recorded.push_back(id);
    }
    return recorded;
  }
  // Gives a claimed row back unsent (its send never started: the dispatcher is stopping, or the
  // row waited so long in a batch that its lease could run out mid-send): due again at `now`,
  // the claim not counted as an attempt. Only while the row is still `claimer`'s claim.
  virtual bool Release(int64_t id, const std::string& claimer, int64_t now) = 0;

  // Newest first (by id), filtered.
  virtual std::vector<NotificationLogRow> List(const NotificationLogFilter& filter) = 0;

  // Retention: deletes at most `limit` finished rows (sent, suppressed, dead) created before
  // `before`, oldest first; returns how many. Queued, sending and failed rows are kept whatever
  // their age.
  virtual int PurgeFinished(int64_t before, int limit) = 0;
};

// The tenant's settings, or the defaults (domain::NotificationSettings) when it never saved any.
inline domain::NotificationSettings SettingsOrDefaults(NotificationRepository& repository,
                                                       const std::string& tenant_id) {
  if (auto stored = repository.FindSettings(tenant_id)) return std::move(*stored);
  domain::NotificationSettings defaults;
  defaults.tenant_id = tenant_id;
  return defaults;
}

}  // namespace paybell::db

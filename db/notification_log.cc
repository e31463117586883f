// SociNotificationRepository, part 2: the log and outbox (notification_log). Settings and
// debounce windows are in notification_repository.cc.
#include <algorithm>
#include <climits>
#include <stdexcept>
#include <string>
#include <string_view>

#include "db/row_access.h"
#include "db/soci_repositories.h"

namespace paybell::db {
namespace {

using domain::Decision;

constexpr std::string_view kLogColumns = R"sql(
  id, tenant_id, kind, trigger_kind, channel, decision, status, attempts, next_attempt_at,
  last_error, payload, dedupe_key, summary, created_at, sent_at)sql";

const std::string kAppend = R"sql(
INSERT INTO notification_log (tenant_id, kind, trigger_kind, channel, decision, status, attempts,
  next_attempt_at, last_error, payload, dedupe_key, summary, created_at, sent_at)
VALUES (:tenant_id, :kind, :trigger_kind, :channel, :decision, :status, :attempts,
  :next_attempt_at, :last_error, :payload, :dedupe_key, :summary, :created_at, :sent_at)
ON CONFLICT (dedupe_key) DO NOTHING
RETURNING id)sql";

const std::string kFind =
    "SELECT" + std::string(kLogColumns) + " FROM notification_log WHERE id = :id";

constexpr std::string_view kHasDedupeKey =
    "SELECT 1 AS found FROM notification_log WHERE dedupe_key = :dedupe_key";

const std::string kListSuppressed = "SELECT" + std::string(kLogColumns) + R"sql(
FROM notification_log
WHERE tenant_id = :tenant_id AND trigger_kind = :trigger_kind AND channel = :channel
  AND decision = 'suppressed' AND created_at >= :from AND created_at < :to
ORDER BY id LIMIT :limit)sql";

// Due rows: queued or failed ones whose time came (a queued row without next_attempt_at is due
// at once), and sending ones whose claimer's lease ran out (it died mid-send). One statement:
// head + SkipLockedRows(kind) + tail.
constexpr std::string_view kClaimHead = R"sql(
WITH due AS MATERIALIZED (
  SELECT id FROM notification_log
  WHERE (status IN ('queued', 'failed') AND (next_attempt_at IS NULL OR next_attempt_at <= :now1))
     OR (status = 'sending' AND claimed_until <= :now2)
  ORDER BY id LIMIT :limit)sql";
const std::string kClaimTail = R"sql()
UPDATE notification_log SET status = 'sending', claimed_by = :claimer,
  claimed_until = :claimed_until, attempts = attempts + 1
WHERE id IN (SELECT id FROM due)
RETURNING)sql" + std::string(kLogColumns);

// A result counts only while the row is still the caller's claim.
constexpr std::string_view kMarkSent = R"sql(
UPDATE notification_log SET status = 'sent', sent_at = :now, claimed_until = NULL
WHERE id = :id AND status = 'sending' AND claimed_by = :claimer)sql";
constexpr std::string_view kMarkRetry = R"sql(
UPDATE notification_log SET status = 'failed', last_error = :error,
  next_attempt_at = :next_attempt_at, claimed_until = NULL
WHERE id = :id AND status = 'sending' AND claimed_by = :claimer)sql";
constexpr std::string_view kMarkDead = R"sql(
UPDATE notification_log SET status = 'dead', last_error = :error, next_attempt_at = NULL,
  claimed_until = NULL
WHERE id = :id AND status = 'sending' AND claimed_by = :claimer)sql";

// The rows of one claim that were sent, in one statement (the ids as a JSON array).
constexpr std::string_view kMarkSentManyHead = R"sql(
UPDATE notification_log SET status = 'sent', sent_at = :now, claimed_until = NULL
WHERE status = 'sending' AND claimed_by = :claimer AND id IN ()sql";
constexpr std::string_view kMarkSentManyTail = ") RETURNING id";
// A claim given back unsent: due again, and the claim does not count as an attempt. A row that
// had failed before keeps saying so.
constexpr std::string_view kRelease = R"sql(
UPDATE notification_log SET status = CASE WHEN last_error = '' THEN 'queued' ELSE 'failed' END,
  next_attempt_at = :now, claimed_until = NULL, attempts = attempts - 1
WHERE id = :id AND status = 'sending' AND claimed_by = :claimer)sql";

// Retention, oldest first and in bounded batches so one run never holds a long lock.
constexpr std::string_view kPurgeFinished = R"sql(
DELETE FROM notification_log WHERE id IN (
  SELECT id FROM notification_log
  WHERE status IN ('sent', 'suppressed', 'dead') AND created_at < :before
  ORDER BY id LIMIT :limit))sql";

// Optional filters as "(:x_any = 1 OR column = :x)": one fixed statement for every combination.
const std::string kList = "SELECT" + std::string(kLogColumns) + R"sql(
FROM notification_log
WHERE (:tenant_any = 1 OR tenant_id = :tenant_id)
  AND (:trigger_any = 1 OR trigger_kind = :trigger_kind)
  AND (:channel_any = 1 OR channel = :channel)
  AND (:status_any = 1 OR status = :status)
  AND created_at >= :since AND created_at < :until AND id < :before_id
ORDER BY id DESC
LIMIT :limit)sql";

std::optional<Decision> DecisionFromWord(std::string_view word) {
  for (Decision d : {Decision::kQueued, Decision::kSuppressed, Decision::kDisabled,
                     Decision::kBelowThreshold, Decision::kUnconfigured}) {
    if (domain::DecisionWord(d) == word) return d;
  }
  return std::nullopt;
}

template <typename T>
T Parsed(std::optional<T> value, std::string_view column, const std::string& word, int64_t id) {
  // The table's CHECK constraints (and our own writes) make this a corrupted row, not input.
  if (!value) {
    throw std::runtime_error("notification_log row " + std::to_string(id) + " has " +
                             std::string(column) + " '" + word + "'");
  }
  return *value;
}

NotificationLogRow LogRowFrom(const soci::row& row) {
  NotificationLogRow r;
  r.id = GetInt(row, "id");
  r.tenant_id = GetString(row, "tenant_id");
  const std::string kind = GetString(row, "kind");
  r.kind = Parsed(domain::LogKindFromWord(kind), "kind", kind, r.id);
  const std::string trigger = GetString(row, "trigger_kind");
  if (!trigger.empty()) {
    r.trigger = Parsed(domain::TriggerFromWord(trigger), "trigger_kind", trigger, r.id);
  }
  const std::string channel = GetString(row, "channel");
  r.channel = Parsed(domain::ChannelFromWord(channel), "channel", channel, r.id);
  const std::string decision = GetString(row, "decision");
  r.decision = Parsed(DecisionFromWord(decision), "decision", decision, r.id);
  const std::string status = GetString(row, "status");
  r.status = Parsed(domain::DeliveryStatusFromWord(status), "status", status, r.id);
  r.attempts = static_cast<int>(GetInt(row, "attempts"));
  r.next_attempt_at = GetOptionalInt(row, "next_attempt_at");
  r.last_error = GetString(row, "last_error");
  r.payload = GetString(row, "payload");
  if (row.get_indicator("dedupe_key") != soci::i_null) r.dedupe_key = GetString(row, "dedupe_key");
  r.summary = GetString(row, "summary");
  r.created_at = GetInt(row, "created_at");
  r.sent_at = GetOptionalInt(row, "sent_at");
  return r;
}

}  // namespace

std::optional<int64_t> SociNotificationRepository::Append(const NotificationLogRow& row) {
  Bound& v = bound_;
  v.tenant_id = row.tenant_id;
  v.kind = std::string(domain::LogKindWord(row.kind));
  // A test belongs to no trigger: its trigger_kind is ''.
  v.trigger = row.trigger ? std::string(domain::TriggerWord(*row.trigger)) : "";
  v.channel = std::string(domain::ChannelWord(row.channel));
  v.decision = std::string(domain::DecisionWord(row.decision));
  v.status = std::string(domain::DeliveryStatusWord(row.status));
  v.attempts = row.attempts;
  v.next_attempt_at = NullableInt(row.next_attempt_at);
  v.last_error = row.last_error;
  v.payload = row.payload;
  v.dedupe_key = row.dedupe_key.value_or("");
  v.dedupe_indicator = row.dedupe_key ? soci::i_ok : soci::i_null;
  v.summary = row.summary;
  v.created_at = row.created_at;
  v.sent_at = NullableInt(row.sent_at);
  std::optional<int64_t> id;
  append_.QueryOne(
      session_,
      [&](soci::session& s) {
        return (s.prepare << kAppend, soci::use(v.tenant_id), soci::use(v.kind),
                soci::use(v.trigger), soci::use(v.channel), soci::use(v.decision),
                soci::use(v.status), soci::use(v.attempts),
                soci::use(v.next_attempt_at.value, v.next_attempt_at.indicator),
                soci::use(v.last_error), soci::use(v.payload),
                soci::use(v.dedupe_key, v.dedupe_indicator), soci::use(v.summary),
                soci::use(v.created_at), soci::use(v.sent_at.value, v.sent_at.indicator),
                soci::into(append_.row()));
      },
      [&] { id = GetInt(append_.row(), "id"); });
  return id;
}

std::optional<NotificationLogRow> SociNotificationRepository::Find(int64_t id) {
  // The dispatcher's SendTest answer and operators: a one-shot statement is fine.
  long long key = id;
  soci::rowset<soci::row> rows = (session_.prepare << kFind, soci::use(key));
  for (const soci::row& row : rows) return LogRowFrom(row);
  return std::nullopt;
}

bool SociNotificationRepository::HasDedupeKey(const std::string& dedupe_key) {
  Bound& v = bound_;
  v.text = dedupe_key;
  return has_dedupe_key_.QueryOne(
      session_,
      [&](soci::session& s) {
        return (s.prepare << kHasDedupeKey, soci::use(v.text), soci::into(has_dedupe_key_.row()));
      },
      [] {});
}

std::vector<NotificationLogRow> SociNotificationRepository::ListSuppressed(const DebounceKey& key,
                                                                           int64_t from, int64_t to,
                                                                           int limit) {
  // Once per digest: a one-shot statement is fine.
  const std::string trigger(domain::TriggerWord(key.trigger));
  const std::string channel(domain::ChannelWord(key.channel));
  long long since = from, until = to;
  std::vector<NotificationLogRow> out;
  soci::rowset<soci::row> rows =
      (session_.prepare << kListSuppressed, soci::use(key.tenant_id), soci::use(trigger),
       soci::use(channel), soci::use(since), soci::use(until), soci::use(limit));
  for (const soci::row& row : rows) out.push_back(LogRowFrom(row));
  return out;
}

std::vector<NotificationLogRow> SociNotificationRepository::ClaimDue(const std::string& claimer,
                                                                     int64_t now, int64_t lease_s,
                                                                     int limit) {
  Bound& v = bound_;
  v.claimer = claimer;
  v.now = now;
  v.until = now + lease_s;
  v.limit = limit;
  std::vector<NotificationLogRow> out;
  claim_due_.QueryAll(
      session_,
      [&](soci::session& s) {
        const std::string sql =
            std::string(kClaimHead) + std::string(SkipLockedRows(kind_)) + kClaimTail;
        return (s.prepare << sql, soci::use(v.now), soci::use(v.now), soci::use(v.limit),
                soci::use(v.claimer), soci::use(v.until), soci::into(claim_due_.row()));
      },
      [&] { out.push_back(LogRowFrom(claim_due_.row())); });
  // RETURNING follows no ORDER BY: hand the rows out oldest first.
  std::sort(out.begin(), out.end(),
            [](const NotificationLogRow& a, const NotificationLogRow& b) { return a.id < b.id; });
  return out;
}

bool SociNotificationRepository::MarkSent(int64_t id, const std::string& claimer, int64_t now) {
  Bound& v = bound_;
  v.now = now;
  v.id = id;
  v.claimer = claimer;
  return mark_sent_.Execute(session_, [&](soci::session& s) {
    return (s.prepare << kMarkSent, soci::use(v.now), soci::use(v.id), soci::use(v.claimer));
  }) == 1;
}

bool SociNotificationRepository::MarkRetry(int64_t id, const std::string& claimer,
                                           const std::string& error, int64_t next_attempt_at) {
  Bound& v = bound_;
  v.text = error;
  v.until = next_attempt_at;
  v.id = id;
  v.claimer = claimer;
  return mark_retry_.Execute(session_, [&](soci::session& s) {
    return (s.prepare << kMarkRetry, soci::use(v.text), soci::use(v.until), soci::use(v.id),
            soci::use(v.claimer));
  }) == 1;
}

bool SociNotificationRepository::MarkDead(int64_t id, const std::string& claimer,
                                          const std::string& error) {
  Bound& v = bound_;
  v.text = error;
  v.id = id;
  v.claimer = claimer;
  return mark_dead_.Execute(session_, [&](soci::session& s) {
    return (s.prepare << kMarkDead, soci::use(v.text), soci::use(v.id), soci::use(v.claimer));
  }) == 1;
}

std::vector<int64_t> SociNotificationRepository::MarkSentMany(const std::vector<int64_t>& ids,
                                                              const std::string& claimer,
                                                              int64_t now) {
  std::vector<int64_t> recorded;
  if (ids.empty()) return recorded;
  Bound& v = bound_;
  v.now = now;
  v.claimer = claimer;
  v.ids = "[";
  for (size_t i = 0; i < ids.size(); ++i) v.ids += (i ? "," : "") + std::to_string(ids[i]);
  v.ids += "]";
  mark_sent_many_.QueryAll(
      session_,
      [&](soci::session& s) {
        const std::string sql = std::string(kMarkSentManyHead) +
                                std::string(JsonBigintElements(kind_)) +
                                std::string(kMarkSentManyTail);
        return (s.prepare << sql, soci::use(v.now), soci::use(v.claimer), soci::use(v.ids),
                soci::into(mark_sent_many_.row()));
      },
      [&] { recorded.push_back(GetInt(mark_sent_many_.row(), "id")); });
  return recorded;
}

bool SociNotificationRepository::Release(int64_t id, const std::string& claimer, int64_t now) {
  Bound& v = bound_;
  v.now = now;
  v.id = id;
  v.claimer = claimer;
  return release_.Execute(session_, [&](soci::session& s) {
    return (s.prepare << kRelease, soci::use(v.now), soci::use(v.id), soci::use(v.claimer));
  }) == 1;
}

int SociNotificationRepository::PurgeFinished(int64_t before, int limit) {
  // Once an hour per replica: a one-shot statement is fine.
  long long cutoff = before;
  int batch = limit;
  soci::statement st = (session_.prepare << kPurgeFinished, soci::use(cutoff), soci::use(batch));
  st.execute(true);
  return static_cast<int>(st.get_affected_rows());
}

std::vector<NotificationLogRow> SociNotificationRepository::List(const NotificationLogFilter& f) {
  // People paging through the log: a one-shot statement is fine.
  int tenant_any = f.tenant_id ? 0 : 1;
  const std::string tenant = f.tenant_id.value_or("");
  int trigger_any = f.trigger ? 0 : 1;
  const std::string trigger = f.trigger ? std::string(domain::TriggerWord(*f.trigger)) : "";
  int channel_any = f.channel ? 0 : 1;
  const std::string channel = f.channel ? std::string(domain::ChannelWord(*f.channel)) : "";
  int status_any = f.status ? 0 : 1;
  const std::string status = f.status ? std::string(domain::DeliveryStatusWord(*f.status)) : "";
  long long since = f.since.value_or(LLONG_MIN);
  long long until = f.until.value_or(LLONG_MAX);
  long long before_id = f.before_id.value_or(LLONG_MAX);
  int limit = f.limit;
  std::vector<NotificationLogRow> out;
  soci::rowset<soci::row> rows =
      (session_.prepare << kList, soci::use(tenant_any), soci::use(tenant), soci::use(trigger_any),
       soci::use(trigger), soci::use(channel_any), soci::use(channel), soci::use(status_any),
       soci::use(status), soci::use(since), soci::use(until), soci::use(before_id),
       soci::use(limit));
  for (const soci::row& row : rows) out.push_back(LogRowFrom(row));
  return out;
}

}  // namespace paybell::db

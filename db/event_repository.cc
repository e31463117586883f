#include <climits>
#include <stdexcept>
#include <string_view>
#include <utility>

#include "db/row_access.h"
#include "db/soci_repositories.h"

namespace paybell::db {
namespace {

constexpr std::string_view kInsertEvent = R"sql(
INSERT INTO billing_events (event_id, type, created, livemode, tenant_id, stripe_customer_id,
  stripe_subscription_id, payload, outcome, error, received_at, processed_at, source)
VALUES (:event_id, :type, :created, :livemode, :tenant_id, :customer, :subscription, :payload,
  :outcome, :error, :received_at, :processed_at, :source)
ON CONFLICT (event_id) DO NOTHING)sql";

constexpr std::string_view kCountDuplicate =
    "UPDATE billing_events SET duplicate_deliveries = duplicate_deliveries + 1 "
    "WHERE event_id = :event_id";

constexpr std::string_view kSetOutcome = R"sql(
UPDATE billing_events SET tenant_id = :tenant_id, outcome = :outcome, error = :error,
  processed_at = :processed_at, replay_count = replay_count + :replayed
WHERE event_id = :event_id)sql";

constexpr std::string_view kSelectColumns = R"sql(
SELECT event_id, type, created, livemode, tenant_id, stripe_customer_id, stripe_subscription_id,
  outcome, error, duplicate_deliveries, replay_count, received_at, processed_at, source)sql";

const std::string kFind =
    std::string(kSelectColumns) + " FROM billing_events WHERE event_id = :event_id";
const std::string kFindWithPayload =
    std::string(kSelectColumns) + ", payload FROM billing_events WHERE event_id = :event_id";

// Optional filters are written as "(:x_any = 1 OR column = :x)", so one fixed statement serves
// every combination without building SQL from values.
constexpr std::string_view kListWhere = R"sql(
FROM billing_events
WHERE (:tenant_any = 1 OR tenant_id = :tenant_id)
  AND (:type_any = 1 OR type = :type)
  AND (:outcome_any = 1 OR outcome = :outcome)
  AND received_at >= :after
  AND received_at < :before_time
  AND (:cursor_any = 1 OR received_at < :cursor_time
       OR (received_at = :cursor_time2 AND event_id < :cursor_id))
ORDER BY received_at DESC, event_id DESC
LIMIT :limit)sql";

constexpr std::string_view kNewestSubscriptionEvent = R"sql(
SELECT MAX(created) FROM billing_events
WHERE stripe_subscription_id = :subscription AND type LIKE 'customer.subscription.%')sql";

constexpr std::string_view kSyncedUntil =
    "SELECT covered_until FROM stripe_catch_up WHERE job = 'sync'";

// Only forward: a slow run finishing after a newer one cannot move the cursor back.
constexpr std::string_view kSetSyncedUntil = R"sql(
INSERT INTO stripe_catch_up (job, covered_until) VALUES ('sync', :covered)
ON CONFLICT (job) DO UPDATE SET covered_until =
  CASE WHEN stripe_catch_up.covered_until IS NULL
         OR excluded.covered_until > stripe_catch_up.covered_until
       THEN excluded.covered_until ELSE stripe_catch_up.covered_until END)sql";

constexpr std::string_view kLastFinished =
    "SELECT finished_at FROM stripe_catch_up WHERE job = :job";

constexpr std::string_view kSetLastFinished = R"sql(
INSERT INTO stripe_catch_up (job, finished_at) VALUES (:job, :at)
ON CONFLICT (job) DO UPDATE SET finished_at = excluded.finished_at)sql";

std::string JobWord(Job job) { return job == Job::kEventSync ? "sync" : "reconcile"; }

EventRecord FromRow(const soci::row& row, bool with_payload) {
  EventRecord e;
  e.event_id = GetString(row, "event_id");
  e.type = GetString(row, "type");
  e.created = GetInt(row, "created");
  e.livemode = GetInt(row, "livemode") != 0;
  e.tenant_id = GetString(row, "tenant_id");
  e.stripe_customer_id = GetString(row, "stripe_customer_id");
  e.stripe_subscription_id = GetString(row, "stripe_subscription_id");
  const std::string outcome = GetString(row, "outcome");
  const auto parsed = domain::OutcomeFromWord(outcome);
  if (!parsed) {
    throw std::runtime_error("billing_events row " + e.event_id + " has outcome '" + outcome + "'");
  }
  e.outcome = *parsed;
  e.error = GetString(row, "error");
  e.duplicate_deliveries = GetInt(row, "duplicate_deliveries");
  e.replay_count = GetInt(row, "replay_count");
  e.received_at = GetInt(row, "received_at");
  e.processed_at = GetOptionalInt(row, "processed_at");
  const std::string source = GetString(row, "source");
  const auto parsed_source = domain::SourceFromWord(source);
  if (!parsed_source) {
    throw std::runtime_error("billing_events row " + e.event_id + " has source '" + source + "'");
  }
  e.source = *parsed_source;
  if (with_payload) e.payload = GetString(row, "payload");
  return e;
}

}  // namespace

bool SociEventRepository::InsertIfNew(EventRecord e) {
  event_ = std::move(e);
  outcome_ = std::string(domain::OutcomeWord(event_.outcome));
  created_ = event_.created;
  received_at_ = event_.received_at;
  processed_at_nullable_ = NullableInt(event_.processed_at);
  livemode_ = event_.livemode ? 1 : 0;
  source_ = std::string(domain::SourceWord(event_.source));
  return insert_.Execute(session_, [&](soci::session& s) {
    return (s.prepare << kInsertEvent, soci::use(event_.event_id), soci::use(event_.type),
            soci::use(created_), soci::use(livemode_), soci::use(event_.tenant_id),
            soci::use(event_.stripe_customer_id), soci::use(event_.stripe_subscription_id),
            soci::use(event_.payload), soci::use(outcome_), soci::use(event_.error),
            soci::use(received_at_),
            soci::use(processed_at_nullable_.value, processed_at_nullable_.indicator),
            soci::use(source_));
  }) == 1;
}

void SociEventRepository::CountDuplicateDelivery(const std::string& event_id) {
  key_ = event_id;
  count_duplicate_.Execute(
      session_, [&](soci::session& s) { return (s.prepare << kCountDuplicate, soci::use(key_)); });
}

void SociEventRepository::SetOutcome(const std::string& event_id, const std::string& tenant_id,
                                     domain::EventOutcome outcome, const std::string& error,
                                     int64_t processed_at, bool replayed) {
  key_ = event_id;
  event_.tenant_id = tenant_id;
  outcome_ = std::string(domain::OutcomeWord(outcome));
  event_.error = error;
  processed_at_ = processed_at;
  replayed_ = replayed ? 1 : 0;
  set_outcome_.Execute(session_, [&](soci::session& s) {
    return (s.prepare << kSetOutcome, soci::use(event_.tenant_id), soci::use(outcome_),
            soci::use(event_.error), soci::use(processed_at_), soci::use(replayed_),
            soci::use(key_));
  });
}

std::optional<EventRecord> SociEventRepository::Find(const std::string& event_id,
                                                     bool with_payload) {
  key_ = event_id;
  PreparedStatement& statement = with_payload ? find_with_payload_ : find_;
  const std::string& sql = with_payload ? kFindWithPayload : kFind;
  std::optional<EventRecord> found;
  statement.QueryOne(
      session_,
      [&](soci::session& s) {
        return (s.prepare << sql, soci::use(key_), soci::into(statement.row()));
      },
      [&] { found = FromRow(statement.row(), with_payload); });
  return found;
}

std::vector<std::string> SociEventRepository::StoredAmong(
    const std::vector<std::string>& event_ids) {
  static const std::string kSelectStoredAmong =
      "SELECT event_id FROM billing_events WHERE event_id IN (" +
      KeySlots<kStoredAmongIds>::Placeholders() + ")";
  std::vector<std::string> stored;
  stored_among_keys_.ForEachSlice(event_ids, [&] {
    stored_among_.QueryAll(
        session_,
        [&](soci::session& s) {
          soci::details::prepare_temp_type statement = (s.prepare << kSelectStoredAmong);
          stored_among_keys_.Bind(statement);
          statement, soci::into(stored_id_);
          return statement;
        },
        [&] { stored.push_back(stored_id_); });
  });
  return stored;
}

std::vector<EventRecord> SociEventRepository::List(const EventFilter& f) {
  // Operators page through this: a one-shot statement is fine.
  int tenant_any = f.tenant_id.empty() ? 1 : 0;
  int type_any = f.type.empty() ? 1 : 0;
  int outcome_any = f.outcome ? 0 : 1;
  std::string outcome = f.outcome ? std::string(domain::OutcomeWord(*f.outcome)) : "";
  long long after = f.received_at_or_after.value_or(INT64_MIN);
  long long before_time = f.received_before.value_or(INT64_MAX);
  int cursor_any = f.before ? 0 : 1;
  long long cursor_time = f.before ? f.before->first : 0;
  std::string cursor_id = f.before ? f.before->second : "";
  int limit = f.limit;
  const std::string query = std::string(kSelectColumns) + std::string(kListWhere);
  soci::rowset<soci::row> rows =
      (session_.prepare << query, soci::use(tenant_any), soci::use(f.tenant_id),
       soci::use(type_any), soci::use(f.type), soci::use(outcome_any), soci::use(outcome),
       soci::use(after), soci::use(before_time), soci::use(cursor_any), soci::use(cursor_time),
       soci::use(cursor_time), soci::use(cursor_id), soci::use(limit));
  std::vector<EventRecord> out;
  for (const soci::row& row : rows) out.push_back(FromRow(row, false));
  return out;
}

std::optional<int64_t> SociEventRepository::NewestSubscriptionEventCreated(
    const std::string& stripe_subscription_id) {
  // Operators' replays only: a one-shot statement is fine.
  long long newest = 0;
  soci::indicator ind = soci::i_null;
  session_ << kNewestSubscriptionEvent, soci::use(stripe_subscription_id), soci::into(newest, ind);
  if (!session_.got_data() || ind != soci::i_ok) return std::nullopt;
  return newest;
}

std::optional<int64_t> SociEventRepository::SyncedUntil() {
  long long covered = 0;
  soci::indicator ind = soci::i_null;
  session_ << kSyncedUntil, soci::into(covered, ind);
  if (!session_.got_data() || ind != soci::i_ok) return std::nullopt;
  return covered;
}

void SociEventRepository::SetSyncedUntil(int64_t covered_until) {
  long long covered = covered_until;
  session_ << kSetSyncedUntil, soci::use(covered);
}

std::optional<int64_t> SociEventRepository::LastFinished(Job job) {
  const std::string word = JobWord(job);
  long long at = 0;
  soci::indicator ind = soci::i_null;
  session_ << kLastFinished, soci::use(word), soci::into(at, ind);
  if (!session_.got_data() || ind != soci::i_ok) return std::nullopt;
  return at;
}

void SociEventRepository::SetLastFinished(Job job, int64_t at) {
  const std::string word = JobWord(job);
  long long when = at;
  session_ << kSetLastFinished, soci::use(word), soci::use(when);
}

void SociEventRepository::ForgetServerStatements(bool postgres) {
  for (PreparedStatement* p :
       {&insert_, &count_duplicate_, &set_outcome_, &find_, &find_with_payload_, &stored_among_}) {
    p->ForgetOnServer(postgres);
  }
}

}  // namespace paybell::db

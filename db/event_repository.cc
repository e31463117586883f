#include "db/event_repository.h"

#include <string_view>

#include "db/row_access.h"

namespace paybell::db {
namespace {

constexpr std::string_view kInsertEvent = R"sql(
INSERT INTO billing_events (event_id, type, created, livemode, tenant_id, stripe_customer_id,
  stripe_subscription_id, payload, outcome, error, received_at)
VALUES (:event_id, :type, :created, :livemode, :tenant_id, :customer, :subscription, :payload,
  :outcome, :error, :received_at)
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
  outcome, error, duplicate_deliveries, replay_count, received_at, processed_at)sql";

// Optional filters are written as "(:x = '' OR column = :x2)" and bound twice, so one fixed
// statement serves every combination without building SQL from values.
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

constexpr std::string_view kTenantBySubscription =
    "SELECT tenant_id FROM billing_subscriptions WHERE stripe_subscription_id = :id "
    "ORDER BY updated_at DESC LIMIT 1";
constexpr std::string_view kTenantByCustomer =
    "SELECT tenant_id FROM billing_subscriptions WHERE stripe_customer_id = :id "
    "ORDER BY updated_at DESC LIMIT 1";
// A transaction-scoped advisory lock on the tenant, not a row lock: a tenant's first events
// arrive before any row exists, and FOR UPDATE on no row locks nothing. The two-int form keeps
// these keys apart from the single-bigint migration lock.
constexpr std::string_view kLockTenantPostgres =
    "SELECT pg_advisory_xact_lock(7292, hashtext(:tenant_id))";

EventRecord FromRow(const soci::row& row, bool with_payload) {
  EventRecord e;
  e.event_id = GetString(row, "event_id");
  e.type = GetString(row, "type");
  e.created = GetInt(row, "created");
  e.livemode = GetInt(row, "livemode") != 0;
  e.tenant_id = GetString(row, "tenant_id");
  e.stripe_customer_id = GetString(row, "stripe_customer_id");
  e.stripe_subscription_id = GetString(row, "stripe_subscription_id");
  e.outcome = GetString(row, "outcome");
  e.error = GetString(row, "error");
  e.duplicate_deliveries = GetInt(row, "duplicate_deliveries");
  e.replay_count = GetInt(row, "replay_count");
  e.received_at = GetInt(row, "received_at");
  e.processed_at = GetOptionalInt(row, "processed_at");
  if (with_payload) e.payload = GetString(row, "payload");
  return e;
}

std::optional<std::string> FirstTenant(soci::session& session, std::string_view query,
                                       const std::string& id) {
  if (id.empty()) return std::nullopt;
  std::string tenant;
  soci::indicator ind = soci::i_null;
  session << query, soci::use(id), soci::into(tenant, ind);
  if (!session.got_data() || ind != soci::i_ok) return std::nullopt;
  return tenant;
}

}  // namespace

namespace event_sql {

bool InsertIfNew(soci::session& session, const EventRecord& e) {
  long long created = e.created, received_at = e.received_at;
  int livemode = e.livemode ? 1 : 0;
  soci::statement st =
      (session.prepare << kInsertEvent, soci::use(e.event_id), soci::use(e.type),
       soci::use(created), soci::use(livemode), soci::use(e.tenant_id),
       soci::use(e.stripe_customer_id), soci::use(e.stripe_subscription_id), soci::use(e.payload),
       soci::use(e.outcome), soci::use(e.error), soci::use(received_at));
  st.execute(true);
  return st.get_affected_rows() == 1;
}

void CountDuplicateDelivery(soci::session& session, const std::string& event_id) {
  session << kCountDuplicate, soci::use(event_id);
}

void SetOutcome(soci::session& session, const std::string& event_id, const std::string& tenant_id,
                const std::string& outcome, const std::string& error, int64_t processed_at,
                bool replayed) {
  long long at = processed_at;
  int replay_increment = replayed ? 1 : 0;
  session << kSetOutcome, soci::use(tenant_id), soci::use(outcome), soci::use(error), soci::use(at),
      soci::use(replay_increment), soci::use(event_id);
}

std::optional<EventRecord> Find(soci::session& session, const std::string& event_id,
                                bool with_payload) {
  const std::string query = std::string(kSelectColumns) + (with_payload ? ", payload" : "") +
                            " FROM billing_events WHERE event_id = :event_id";
  soci::rowset<soci::row> rows = (session.prepare << query, soci::use(event_id));
  for (const soci::row& row : rows) return FromRow(row, with_payload);
  return std::nullopt;
}

std::vector<EventRecord> List(soci::session& session, const EventFilter& f) {
  int tenant_any = f.tenant_id.empty() ? 1 : 0;
  int type_any = f.type.empty() ? 1 : 0;
  int outcome_any = f.outcome.empty() ? 1 : 0;
  long long after = f.received_at_or_after.value_or(INT64_MIN);
  long long before_time = f.received_before.value_or(INT64_MAX);
  int cursor_any = f.before ? 0 : 1;
  long long cursor_time = f.before ? f.before->first : 0;
  std::string cursor_id = f.before ? f.before->second : "";
  int limit = f.limit;
  const std::string query = std::string(kSelectColumns) + std::string(kListWhere);
  soci::rowset<soci::row> rows =
      (session.prepare << query, soci::use(tenant_any), soci::use(f.tenant_id), soci::use(type_any),
       soci::use(f.type), soci::use(outcome_any), soci::use(f.outcome), soci::use(after),
       soci::use(before_time), soci::use(cursor_any), soci::use(cursor_time),
       soci::use(cursor_time), soci::use(cursor_id), soci::use(limit));
  std::vector<EventRecord> out;
  for (const soci::row& row : rows) out.push_back(FromRow(row, false));
  return out;
}

}  // namespace event_sql

namespace tenant_lookup_sql {

std::optional<std::string> FindTenantByStripeIds(soci::session& session,
                                                 const std::string& subscription_id,
                                                 const std::string& customer_id) {
  if (auto tenant = FirstTenant(session, kTenantBySubscription, subscription_id)) return tenant;
  return FirstTenant(session, kTenantByCustomer, customer_id);
}

void LockTenant(soci::session& session, DatabaseKind kind, const std::string& tenant_id) {
  if (kind != DatabaseKind::kPostgres) return;
  session << kLockTenantPostgres, soci::use(tenant_id);
}

}  // namespace tenant_lookup_sql

}  // namespace paybell::db

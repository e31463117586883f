#include "db/subscription_repository.h"

#include <string_view>

#include "db/row_access.h"

namespace paybell::db {
namespace {

constexpr std::string_view kColumns = R"sql(
  tenant_id, stripe_customer_id, stripe_subscription_id, plan, status, current_period_start,
  current_period_end, cancel_at_period_end, cancel_at, canceled_at, trial_end,
  last_event_created, last_event_id, created_at, updated_at)sql";

const std::string kSelectByTenant =
    "SELECT" + std::string(kColumns) + " FROM billing_subscriptions WHERE tenant_id = :tenant_id";

const std::string kListAll = "SELECT" + std::string(kColumns) +
                             " FROM billing_subscriptions WHERE tenant_id > :after"
                             " ORDER BY tenant_id LIMIT :limit";

const std::string kListByStatus = "SELECT" + std::string(kColumns) +
                                  " FROM billing_subscriptions"
                                  " WHERE tenant_id > :after AND status = :status"
                                  " ORDER BY tenant_id LIMIT :limit";

constexpr std::string_view kUpsert = R"sql(
INSERT INTO billing_subscriptions (
  tenant_id, stripe_customer_id, stripe_subscription_id, plan, status, current_period_start,
  current_period_end, cancel_at_period_end, cancel_at, canceled_at, trial_end,
  last_event_created, last_event_id, created_at, updated_at)
VALUES (:tenant_id, :customer, :subscription, :plan, :status, :period_start, :period_end,
  :cancel_at_period_end, :cancel_at, :canceled_at, :trial_end, :last_event_created,
  :last_event_id, :created_at, :updated_at)
ON CONFLICT (tenant_id) DO UPDATE SET
  stripe_customer_id = excluded.stripe_customer_id,
  stripe_subscription_id = excluded.stripe_subscription_id,
  plan = excluded.plan,
  status = excluded.status,
  current_period_start = excluded.current_period_start,
  current_period_end = excluded.current_period_end,
  cancel_at_period_end = excluded.cancel_at_period_end,
  cancel_at = excluded.cancel_at,
  canceled_at = excluded.canceled_at,
  trial_end = excluded.trial_end,
  last_event_created = excluded.last_event_created,
  last_event_id = excluded.last_event_id,
  updated_at = excluded.updated_at)sql";

SubscriptionRecord FromRow(const soci::row& row) {
  SubscriptionRecord r;
  r.tenant_id = GetString(row, "tenant_id");
  r.stripe_customer_id = GetString(row, "stripe_customer_id");
  r.stripe_subscription_id = GetString(row, "stripe_subscription_id");
  r.plan = GetString(row, "plan");
  r.status = GetString(row, "status");
  r.current_period_start = GetOptionalInt(row, "current_period_start");
  r.current_period_end = GetOptionalInt(row, "current_period_end");
  r.cancel_at_period_end = GetInt(row, "cancel_at_period_end") != 0;
  r.cancel_at = GetOptionalInt(row, "cancel_at");
  r.canceled_at = GetOptionalInt(row, "canceled_at");
  r.trial_end = GetOptionalInt(row, "trial_end");
  r.last_event_created = GetOptionalInt(row, "last_event_created");
  r.last_event_id = GetString(row, "last_event_id");
  r.created_at = GetInt(row, "created_at");
  r.updated_at = GetInt(row, "updated_at");
  return r;
}

}  // namespace

bool SubscriptionRecord::operator==(const SubscriptionRecord& o) const {
  return tenant_id == o.tenant_id && stripe_customer_id == o.stripe_customer_id &&
         stripe_subscription_id == o.stripe_subscription_id && plan == o.plan &&
         status == o.status && current_period_start == o.current_period_start &&
         current_period_end == o.current_period_end &&
         cancel_at_period_end == o.cancel_at_period_end && cancel_at == o.cancel_at &&
         canceled_at == o.canceled_at && trial_end == o.trial_end &&
         last_event_created == o.last_event_created && last_event_id == o.last_event_id &&
         created_at == o.created_at && updated_at == o.updated_at;
}

namespace subscription_sql {

std::optional<SubscriptionRecord> Find(soci::session& session, const std::string& tenant_id) {
  soci::rowset<soci::row> rows = (session.prepare << kSelectByTenant, soci::use(tenant_id));
  for (const soci::row& row : rows) return FromRow(row);
  return std::nullopt;
}

void Upsert(soci::session& session, const SubscriptionRecord& r) {
  NullableInt period_start(r.current_period_start), period_end(r.current_period_end),
      cancel_at(r.cancel_at), canceled_at(r.canceled_at), trial_end(r.trial_end),
      last_event_created(r.last_event_created);
  int cancel_at_period_end = r.cancel_at_period_end ? 1 : 0;
  long long created_at = r.created_at, updated_at = r.updated_at;
  session << kUpsert, soci::use(r.tenant_id), soci::use(r.stripe_customer_id),
      soci::use(r.stripe_subscription_id), soci::use(r.plan), soci::use(r.status),
      soci::use(period_start.value, period_start.indicator),
      soci::use(period_end.value, period_end.indicator), soci::use(cancel_at_period_end),
      soci::use(cancel_at.value, cancel_at.indicator),
      soci::use(canceled_at.value, canceled_at.indicator),
      soci::use(trial_end.value, trial_end.indicator),
      soci::use(last_event_created.value, last_event_created.indicator), soci::use(r.last_event_id),
      soci::use(created_at), soci::use(updated_at);
}

}  // namespace subscription_sql

std::optional<SubscriptionRecord> SociSubscriptionRepository::Find(const std::string& tenant_id) {
  std::optional<SubscriptionRecord> found;
  pool_.Run("read subscription",
            [&](soci::session& session) { found = subscription_sql::Find(session, tenant_id); });
  return found;
}

void SociSubscriptionRepository::Upsert(const SubscriptionRecord& record) {
  pool_.Run("write subscription", [&](soci::session& session) {
    WriteTransaction tx(session, pool_.kind());
    subscription_sql::Upsert(session, record);
    tx.Commit();
  });
}

std::vector<SubscriptionRecord> SociSubscriptionRepository::List(const std::string& status,
                                                                 const std::string& after_tenant_id,
                                                                 int limit) {
  std::vector<SubscriptionRecord> out;
  pool_.Run("list subscriptions", [&](soci::session& session) {
    out.clear();
    if (status.empty()) {
      soci::rowset<soci::row> rows =
          (session.prepare << kListAll, soci::use(after_tenant_id), soci::use(limit));
      for (const soci::row& row : rows) out.push_back(FromRow(row));
    } else {
      soci::rowset<soci::row> rows = (session.prepare << kListByStatus, soci::use(after_tenant_id),
                                      soci::use(status), soci::use(limit));
      for (const soci::row& row : rows) out.push_back(FromRow(row));
    }
  });
  return out;
}

}  // namespace paybell::db

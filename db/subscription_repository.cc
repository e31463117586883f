#include <algorithm>
#include <stdexcept>
#include <string_view>

#include "db/row_access.h"
#include "db/soci_repositories.h"

namespace paybell::db {
namespace {

constexpr std::string_view kColumns = R"sql(
  tenant_id, stripe_customer_id, stripe_subscription_id, plan, status, current_period_start,
  current_period_end, cancel_at_period_end, cancel_at, canceled_at, trial_end,
  last_event_created, last_event_id, created_at, updated_at)sql";

const std::string kSelectByTenant =
    "SELECT" + std::string(kColumns) + " FROM billing_subscriptions WHERE tenant_id = :tenant_id";

const std::string kList = "SELECT" + std::string(kColumns) +
                          " FROM billing_subscriptions"
                          " WHERE tenant_id > :after AND (:status_any = 1 OR status = :status)"
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

constexpr std::string_view kTenantBySubscription =
    "SELECT tenant_id FROM billing_subscriptions WHERE stripe_subscription_id = :id "
    "ORDER BY updated_at DESC LIMIT 1";
constexpr std::string_view kTenantByCustomer =
    "SELECT tenant_id FROM billing_subscriptions WHERE stripe_customer_id = :id "
    "ORDER BY updated_at DESC LIMIT 1";

domain::Subscription FromRow(const soci::row& row) {
  domain::Subscription s;
  s.tenant_id = GetString(row, "tenant_id");
  s.stripe_customer_id = GetString(row, "stripe_customer_id");
  s.stripe_subscription_id = GetString(row, "stripe_subscription_id");
  const std::string plan = GetString(row, "plan");
  const std::string status = GetString(row, "status");
  const auto parsed_plan = domain::PlanFromWord(plan);
  const auto parsed_status = domain::StatusFromWord(status);
  if (!parsed_plan || !parsed_status) {
    // The table's CHECK constraints make this a corrupted row, not input.
    throw std::runtime_error("billing_subscriptions row of " + s.tenant_id + " has plan '" + plan +
                             "' / status '" + status + "'");
  }
  s.plan = *parsed_plan;
  s.status = *parsed_status;
  s.current_period_start = GetOptionalInt(row, "current_period_start");
  s.current_period_end = GetOptionalInt(row, "current_period_end");
  s.cancel_at_period_end = GetInt(row, "cancel_at_period_end") != 0;
  s.cancel_at = GetOptionalInt(row, "cancel_at");
  s.canceled_at = GetOptionalInt(row, "canceled_at");
  s.trial_end = GetOptionalInt(row, "trial_end");
  s.last_event_created = GetOptionalInt(row, "last_event_created");
  s.last_event_id = GetString(row, "last_event_id");
  s.created_at = GetInt(row, "created_at");
  s.updated_at = GetInt(row, "updated_at");
  return s;
}

}  // namespace

// The values the prepared upsert binds; soci::use keeps references to them.
struct SociSubscriptionRepository::Row {
  std::string tenant_id, customer, subscription, plan, status, last_event_id;
  NullableInt period_start{std::nullopt}, period_end{std::nullopt}, cancel_at{std::nullopt},
      canceled_at{std::nullopt}, trial_end{std::nullopt}, last_event_created{std::nullopt};
  int cancel_at_period_end = 0;
  long long created_at = 0, updated_at = 0;
};

SociSubscriptionRepository::SociSubscriptionRepository(soci::session& session)
    : session_(session) {}

SociSubscriptionRepository::~SociSubscriptionRepository() = default;

std::optional<domain::Subscription> SociSubscriptionRepository::Find(const std::string& tenant_id) {
  key_ = tenant_id;
  std::optional<domain::Subscription> found;
  find_.QueryOne(
      session_,
      [&](soci::session& s) {
        return (s.prepare << kSelectByTenant, soci::use(key_), soci::into(find_.row()));
      },
      [&] { found = FromRow(find_.row()); });
  return found;
}

std::vector<domain::Subscription> SociSubscriptionRepository::FindMany(
    const std::vector<std::string>& tenant_ids) {
  static const std::string kSelectByTenants = "SELECT" + std::string(kColumns) +
                                              " FROM billing_subscriptions WHERE tenant_id IN (" +
                                              KeySlots<kFindManyIds>::Placeholders() + ")";
  // Each tenant once (ForEachSlice), so a tenant named in two slices of 32 is not read twice.
  std::vector<domain::Subscription> found;
  find_many_keys_.ForEachSlice(tenant_ids, [&] {
    find_many_.QueryAll(
        session_,
        [&](soci::session& s) {
          soci::details::prepare_temp_type statement = (s.prepare << kSelectByTenants);
          find_many_keys_.Bind(statement);
          statement, soci::into(find_many_.row());
          return statement;
        },
        [&] { found.push_back(FromRow(find_many_.row())); });
  });
  return found;
}

void SociSubscriptionRepository::Upsert(const domain::Subscription& s) {
  if (!values_) values_ = std::make_unique<Row>();
  Row& v = *values_;
  v.tenant_id = s.tenant_id;
  v.customer = s.stripe_customer_id;
  v.subscription = s.stripe_subscription_id;
  v.plan = std::string(domain::PlanWord(s.plan));
  v.status = std::string(domain::StatusWord(s.status));
  v.period_start = NullableInt(s.current_period_start);
  v.period_end = NullableInt(s.current_period_end);
  v.cancel_at_period_end = s.cancel_at_period_end ? 1 : 0;
  v.cancel_at = NullableInt(s.cancel_at);
  v.canceled_at = NullableInt(s.canceled_at);
  v.trial_end = NullableInt(s.trial_end);
  v.last_event_created = NullableInt(s.last_event_created);
  v.last_event_id = s.last_event_id;
  v.created_at = s.created_at;
  v.updated_at = s.updated_at;
  upsert_.Execute(session_, [&](soci::session& ses) {
    return (ses.prepare << kUpsert, soci::use(v.tenant_id), soci::use(v.customer),
            soci::use(v.subscription), soci::use(v.plan), soci::use(v.status),
            soci::use(v.period_start.value, v.period_start.indicator),
            soci::use(v.period_end.value, v.period_end.indicator),
            soci::use(v.cancel_at_period_end), soci::use(v.cancel_at.value, v.cancel_at.indicator),
            soci::use(v.canceled_at.value, v.canceled_at.indicator),
            soci::use(v.trial_end.value, v.trial_end.indicator),
            soci::use(v.last_event_created.value, v.last_event_created.indicator),
            soci::use(v.last_event_id), soci::use(v.created_at), soci::use(v.updated_at));
  });
}

std::vector<domain::Subscription> SociSubscriptionRepository::List(
    const std::optional<domain::SubscriptionStatus>& status, const std::string& after_tenant_id,
    int limit) {
  // Operators page through this rarely: a one-shot statement is fine.
  int status_any = status ? 0 : 1;
  std::string status_word = status ? std::string(domain::StatusWord(*status)) : "";
  std::vector<domain::Subscription> out;
  soci::rowset<soci::row> rows = (session_.prepare << kList, soci::use(after_tenant_id),
                                  soci::use(status_any), soci::use(status_word), soci::use(limit));
  for (const soci::row& row : rows) out.push_back(FromRow(row));
  return out;
}

std::optional<std::string> SociSubscriptionRepository::FindTenantByStripeIds(
    const std::string& subscription_id, const std::string& customer_id) {
  std::optional<std::string> tenant;
  auto lookup = [&](PreparedStatement& statement, std::string_view sql, const std::string& id) {
    if (id.empty()) return;
    key_ = id;
    statement.QueryOne(
        session_,
        [&](soci::session& s) {
          return (s.prepare << sql, soci::use(key_), soci::into(statement.row()));
        },
        [&] { tenant = GetString(statement.row(), "tenant_id"); });
  };
  lookup(tenant_by_subscription_, kTenantBySubscription, subscription_id);
  if (!tenant) lookup(tenant_by_customer_, kTenantByCustomer, customer_id);
  return tenant;
}

void SociSubscriptionRepository::ForgetServerStatements(bool postgres) {
  for (PreparedStatement* p :
       {&find_, &find_many_, &upsert_, &tenant_by_subscription_, &tenant_by_customer_}) {
    p->ForgetOnServer(postgres);
  }
}

}  // namespace paybell::db

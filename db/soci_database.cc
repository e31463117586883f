#include "db/soci_database.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <stdexcept>

#include "db/errors.h"
#include "db/soci_repositories.h"

namespace paybell::db {

void PrefetchedSubscriptions::Prefetch(const std::vector<std::string>& tenant_ids) {
  to_read_.insert(to_read_.end(), tenant_ids.begin(), tenant_ids.end());
}

std::optional<domain::Subscription> PrefetchedSubscriptions::Find(const std::string& tenant_id) {
  if (!to_read_.empty()) {
    std::vector<std::string> tenants;
    tenants.swap(to_read_);
    // Read before anything is recorded: a failed read leaves every tenant to rows_.Find.
    std::vector<domain::Subscription> rows = rows_.FindMany(tenants);
    for (const std::string& tenant : tenants) known_[tenant] = std::nullopt;
    for (domain::Subscription& row : rows) known_[row.tenant_id] = std::move(row);
  }
  auto it = known_.find(tenant_id);
  if (it != known_.end()) return it->second;
  return rows_.Find(tenant_id);
}

void PrefetchedSubscriptions::Upsert(const domain::Subscription& subscription) {
  known_.erase(subscription.tenant_id);  // the database says what the upsert kept
  rows_.Upsert(subscription);
}

SociUnitOfWork::SociUnitOfWork(Connection& connection, bool write)
    : connection_(connection),
      write_(write),
      subscriptions_(connection.repositories().subscriptions) {
  if (!write_) return;
  if (connection_.kind() == DatabaseKind::kSqlite) {
    connection_.session() << "BEGIN IMMEDIATE";
  } else {
    connection_.session().begin();  // one round trip; a one-shot "BEGIN" statement costs three
  }
  open_ = true;
}

SociUnitOfWork::~SociUnitOfWork() {
  if (!open_) return;
  try {
    connection_.session().rollback();
  } catch (const std::exception& e) {
    // A dead connection rolled back on the server already; the pool discards it.
    spdlog::warn("rollback failed: {}", ErrorMessage(e));
  }
}

SubscriptionRepository& SociUnitOfWork::subscriptions() { return subscriptions_; }
EventRepository& SociUnitOfWork::events() { return connection_.repositories().events; }
CheckoutRepository& SociUnitOfWork::checkouts() { return connection_.repositories().checkouts; }
AuditLog& SociUnitOfWork::audit() { return connection_.repositories().audit; }
NotificationRepository& SociUnitOfWork::notifications() {
  return connection_.repositories().notifications;
}
InvoiceRepository& SociUnitOfWork::invoices() { return connection_.repositories().invoices; }
SessionRepository& SociUnitOfWork::sessions() { return connection_.repositories().sessions; }

void SociUnitOfWork::LockTenant(const std::string& tenant_id) {
  if (!write_) throw std::logic_error("LockTenant outside a transaction locks nothing");
  if (!locked_.insert(tenant_id).second) return;  // held until the transaction ends
  connection_.repositories().LockTenants({tenant_id});
}

void SociUnitOfWork::LockTenants(std::vector<std::string> tenant_ids) {
  if (!write_) throw std::logic_error("LockTenants outside a transaction locks nothing");
  std::sort(tenant_ids.begin(), tenant_ids.end());
  tenant_ids.erase(std::unique(tenant_ids.begin(), tenant_ids.end()), tenant_ids.end());
  tenant_ids.erase(std::remove_if(tenant_ids.begin(), tenant_ids.end(),
                                  [&](const std::string& t) { return locked_.count(t) > 0; }),
                   tenant_ids.end());
  if (tenant_ids.empty()) return;
  connection_.repositories().LockTenants(tenant_ids);  // one round trip, in this order
  locked_.insert(tenant_ids.begin(), tenant_ids.end());
  // A group of tenants (a group commit's) may be read one by one: on PostgreSQL, where each
  // read is a round trip, the first read reads them all. (SQLite reads in-process.)
  if (tenant_ids.size() > 1 && connection_.kind() == DatabaseKind::kPostgres) {
    subscriptions_.Prefetch(tenant_ids);
  }
}

void SociUnitOfWork::Commit() {
  if (!open_) return;
  connection_.session().commit();
  open_ = false;
}

SociDatabase::SociDatabase(const common::DatabaseUrl& url, size_t connections)
    : pool_(url, connections) {}

void SociDatabase::Transact(std::string_view what, const std::function<void(UnitOfWork&)>& work) {
  pool_.Run(what, [&](Connection& connection) {
    SociUnitOfWork unit(connection, /*write=*/true);
    work(unit);
  });
}

void SociDatabase::Read(std::string_view what, const std::function<void(UnitOfWork&)>& work) {
  pool_.Run(what, [&](Connection& connection) {
    SociUnitOfWork unit(connection, /*write=*/false);
    work(unit);
  });
}

bool SociDatabase::Ping() {
  try {
    pool_.Run(
        "ping", [](Connection& connection) { connection.repositories().Ping(); },
        std::chrono::milliseconds(200));
    return true;
  } catch (const PoolExhausted&) {
    // Every connection is at work. If work still completes, the database answers and is only
    // busy: reporting it down would take every replica out of the load balancer at once under
    // a load spike. If nothing completed for a while, the connections hang on a database that
    // stopped answering, and it is down.
    return std::chrono::steady_clock::now() - pool_.last_success() < std::chrono::seconds(5);
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace paybell::db

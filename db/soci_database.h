// The Database and UnitOfWork of db/unit_of_work.h over SOCI and the connection pool.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "db/pool.h"
#include "db/soci_repositories.h"
#include "db/unit_of_work.h"

namespace paybell::db {

// A transaction's view of the subscriptions: the rows of the tenants it locked as a group, read
// in one round trip when the first subscription is asked for (after the locks, so they are what
// the previous lock holder committed; never, for a transaction that reads none, such as
// Emit's), and every other call passed through. A row this transaction upserts is read again
// from the database.
class PrefetchedSubscriptions final : public SubscriptionRepository {
 public:
  explicit PrefetchedSubscriptions(SociSubscriptionRepository& rows) : rows_(rows) {}
  // Names tenants whose rows the first Find reads together.
  void Prefetch(const std::vector<std::string>& tenant_ids);
  std::optional<domain::Subscription> Find(const std::string& tenant_id) override;
  std::vector<domain::Subscription> FindMany(const std::vector<std::string>& tenant_ids) override {
    return rows_.FindMany(tenant_ids);
  }
  void Upsert(const domain::Subscription& subscription) override;
  std::vector<domain::Subscription> List(const std::optional<domain::SubscriptionStatus>& status,
                                         const std::string& after_tenant_id, int limit) override {
    return rows_.List(status, after_tenant_id, limit);
  }
  std::optional<std::string> FindTenantByStripeIds(const std::string& subscription_id,
                                                   const std::string& customer_id) override {
    return rows_.FindTenantByStripeIds(subscription_id, customer_id);
  }

 private:
  SociSubscriptionRepository& rows_;
  std::vector<std::string> to_read_;                                  // named, not read yet
  std::map<std::string, std::optional<domain::Subscription>> known_;  // nullopt: has no row
};

// One transaction (or, for reads, none) on one leased connection.
class SociUnitOfWork final : public UnitOfWork {
 public:
  // Begins the transaction when `write`: BEGIN IMMEDIATE on SQLite, so two writers never
  // deadlock upgrading read locks; BEGIN on PostgreSQL (READ COMMITTED, pinned per connection).
  SociUnitOfWork(Connection& connection, bool write);
  // Rolls back unless committed.
  ~SociUnitOfWork() override;

  SubscriptionRepository& subscriptions() override;
  EventRepository& events() override;
  CheckoutRepository& checkouts() override;
  AuditLog& audit() override;
  NotificationRepository& notifications() override;
  InvoiceRepository& invoices() override;
  SessionRepository& sessions() override;
  void LockTenant(const std::string& tenant_id) override;
  void LockTenants(std::vector<std::string> tenant_ids) override;
  void Commit() override;

  // For tests of the transaction itself (isolation level, locks).
  soci::session& session() { return connection_.session(); }

 private:
  Connection& connection_;
  bool write_;
  bool open_ = false;
  std::set<std::string> locked_;  // tenants this transaction holds the lock of
  PrefetchedSubscriptions subscriptions_;
};

class SociDatabase final : public Database {
 public:
  // Opens the pool now; throws common::Error(kUnavailable) when the database is unreachable.
  SociDatabase(const common::DatabaseUrl& url, size_t connections);

  void Transact(std::string_view what, const std::function<void(UnitOfWork&)>& work) override;
  void Read(std::string_view what, const std::function<void(UnitOfWork&)>& work) override;
  bool Ping() override;

  // For migrations, which run their own DDL transactions.
  ConnectionPool& pool() { return pool_; }

 private:
  ConnectionPool pool_;
};

}  // namespace paybell::db

// The Database and UnitOfWork of db/unit_of_work.h over SOCI and the connection pool.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "db/pool.h"
#include "db/unit_of_work.h"

namespace paybell::db {

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

// The unit of work: every repository bound to one transaction, and the database that hands
// units out. Services (ingestion, checkout, the notification outbox) take these
// interfaces, never a SOCI session; tests fake them with gMock (tests/mocks/).
#pragma once

#include <algorithm>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "db/audit_log.h"
#include "db/checkout_repository.h"
#include "db/event_repository.h"
#include "db/invoice_repository.h"
#include "db/notification_repository.h"
#include "db/session_repository.h"
#include "db/subscription_repository.h"

namespace paybell::db {

class UnitOfWork {
 public:
  virtual ~UnitOfWork() = default;
  virtual SubscriptionRepository& subscriptions() = 0;
  virtual EventRepository& events() = 0;
  virtual CheckoutRepository& checkouts() = 0;
  virtual AuditLog& audit() = 0;
  // Notification settings, the outbox/log and the debounce windows.
  virtual NotificationRepository& notifications() = 0;
  // Invoice summaries from invoice.* events (billing_invoices).
  virtual InvoiceRepository& invoices() = 0;
  // Browser sessions (web_sessions).
  virtual SessionRepository& sessions() = 0;
  // Serialises the transactions that change one tenant until this one ends, also before the
  // tenant has any row. Take it before reading the tenant's rows; a unit touching several
  // tenants locks them in sorted order. (PostgreSQL: a transaction-scoped advisory lock;
  // SQLite: its single writer already serialises, so nothing more is needed.)
  virtual void LockTenant(const std::string& tenant_id) = 0;
  // Locks every named tenant, in sorted order (so two units locking overlapping sets never
  // deadlock). A tenant this unit locked already costs nothing.
  virtual void LockTenants(std::vector<std::string> tenant_ids) {
    std::sort(tenant_ids.begin(), tenant_ids.end());
    tenant_ids.erase(std::unique(tenant_ids.begin(), tenant_ids.end()), tenant_ids.end());
    for (const std::string& tenant_id : tenant_ids) LockTenant(tenant_id);
  }
  // Makes the unit's writes durable. A unit that ends without Commit() is rolled back.
  virtual void Commit() = 0;
};

class Database {
 public:
  virtual ~Database() = default;

  // Runs `work` in one write transaction (PostgreSQL: READ COMMITTED; SQLite: BEGIN
  // IMMEDIATE). `work` calls Commit() when done; returning without it, or throwing, rolls
  // back. `work` may run more than once: after a lost connection (once, on a healed
  // connection) and after a serialization failure or deadlock (a few times), so it must only
  // touch the database and its own locals. When the connection is lost while the COMMIT's
  // answer is on its way, the unit runs again although its first run may have committed: its
  // writes are idempotent (keys, ON CONFLICT), but an audit row may then be written twice.
  // Database errors come out as common::Error: kUnavailable when the database is down, busy or
  // keeps conflicting (the caller may retry), kAlreadyExists for a unique key, kInternal
  // otherwise. `what` names the operation in messages ("ingest Stripe event").
  virtual void Transact(std::string_view what, const std::function<void(UnitOfWork&)>& work) = 0;

  // Like Transact for reads: no transaction is opened, each statement sees the latest
  // committed data, and Commit() does nothing.
  virtual void Read(std::string_view what, const std::function<void(UnitOfWork&)>& work) = 0;

  // Whether a trivial query succeeds now (readiness). Heals lost connections as a side effect.
  virtual bool Ping() = 0;
};

}  // namespace paybell::db

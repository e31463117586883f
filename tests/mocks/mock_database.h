// gMock stand-ins for the unit of work and its repositories, for unit tests of services
// (checkout, ingestion, notifications) without a database.
#pragma once

#include <gmock/gmock.h>

#include "db/unit_of_work.h"

namespace paybell::testing {

class MockSubscriptionRepository : public db::SubscriptionRepository {
 public:
  MOCK_METHOD(std::optional<domain::Subscription>, Find, (const std::string& tenant_id),
              (override));
  MOCK_METHOD(std::vector<domain::Subscription>, FindMany,
              (const std::vector<std::string>& tenant_ids), (override));
  MOCK_METHOD(void, Upsert, (const domain::Subscription& subscription), (override));
  MOCK_METHOD(std::vector<domain::Subscription>, List,
              (const std::optional<domain::SubscriptionStatus>& status,
               const std::string& after_tenant_id, int limit),
              (override));
  MOCK_METHOD(std::optional<std::string>, FindTenantByStripeIds,
              (const std::string& subscription_id, const std::string& customer_id), (override));
};

class MockEventRepository : public db::EventRepository {
 public:
  MOCK_METHOD(bool, InsertIfNew, (db::EventRecord event), (override));
  MOCK_METHOD(void, CountDuplicateDelivery, (const std::string& event_id), (override));
  MOCK_METHOD(void, SetOutcome,
              (const std::string& event_id, const std::string& tenant_id,
               domain::EventOutcome outcome, const std::string& error, int64_t processed_at,
               bool replayed),
              (override));
  MOCK_METHOD(std::optional<db::EventRecord>, Find,
              (const std::string& event_id, bool with_payload), (override));
  MOCK_METHOD(std::vector<std::string>, StoredAmong, (const std::vector<std::string>& event_ids),
              (override));
  MOCK_METHOD(std::vector<db::EventRecord>, List, (const db::EventFilter& filter), (override));
  MOCK_METHOD(std::optional<int64_t>, NewestSubscriptionEventCreated,
              (const std::string& stripe_subscription_id), (override));
  MOCK_METHOD(std::optional<int64_t>, SyncedUntil, (), (override));
  MOCK_METHOD(void, SetSyncedUntil, (int64_t covered_until), (override));
  MOCK_METHOD(std::optional<int64_t>, LastFinished, (db::Job job), (override));
  MOCK_METHOD(void, SetLastFinished, (db::Job job, int64_t at), (override));
};

class MockCheckoutRepository : public db::CheckoutRepository {
 public:
  MOCK_METHOD(void, Insert, (const db::CheckoutSessionRecord& record), (override));
  MOCK_METHOD(void, MarkComplete, (const std::string& session_id, int64_t at), (override));
  MOCK_METHOD(std::vector<db::OpenCheckout>, ListOpen,
              (const std::string& tenant_id, int64_t since), (override));
  MOCK_METHOD(void, SetStatus, (const std::string& session_id, domain::CheckoutStatus status),
              (override));
  MOCK_METHOD(std::optional<domain::CheckoutStatus>, StatusOf, (const std::string& session_id),
              (override));
  MOCK_METHOD(std::optional<db::CheckoutSessionRecord>, FindByIdempotencyKey,
              (const std::string& tenant_id, const std::string& idempotency_key), (override));
  MOCK_METHOD(bool, TryClaim,
              (const std::string& tenant_id, const std::string& claim_id, int64_t now,
               int64_t lease_until),
              (override));
  MOCK_METHOD(void, ReleaseClaim, (const std::string& tenant_id, const std::string& claim_id),
              (override));
};

class MockAuditLog : public db::AuditLog {
 public:
  MOCK_METHOD(void, Append, (const db::AuditEntry& entry), (override));
  MOCK_METHOD(std::vector<db::AuditEntry>, ListForTenant, (const std::string& tenant_id, int limit),
              (override));
};

class MockNotificationRepository : public db::NotificationRepository {
 public:
  MOCK_METHOD(std::optional<domain::NotificationSettings>, FindSettings,
              (const std::string& tenant_id), (override));
  MOCK_METHOD(void, SaveSettings,
              (const domain::NotificationSettings& settings, const std::string& updated_by),
              (override));
  MOCK_METHOD(void, MarkSlackBroken, (const std::string& tenant_id, const std::string& url),
              (override));
  MOCK_METHOD(db::DebounceOutcome, Debounce,
              (const db::DebounceKey& key, int64_t now, int64_t window_s), (override));
  MOCK_METHOD(std::vector<db::ClosedWindow>, TakeClosedWindows,
              (int64_t now, int64_t window_s, int limit), (override));
  MOCK_METHOD(std::optional<int64_t>, Append, (const db::NotificationLogRow& row), (override));
  MOCK_METHOD(std::optional<db::NotificationLogRow>, Find, (int64_t id), (override));
  MOCK_METHOD(bool, HasDedupeKey, (const std::string& dedupe_key), (override));
  MOCK_METHOD(std::vector<db::NotificationLogRow>, ListSuppressed,
              (const db::DebounceKey& key, int64_t from, int64_t to, int limit), (override));
  MOCK_METHOD(std::vector<db::NotificationLogRow>, ClaimDue,
              (const std::string& claimer, int64_t now, int64_t lease_s, int limit), (override));
  MOCK_METHOD(bool, MarkSent, (int64_t id, const std::string& claimer, int64_t now), (override));
  MOCK_METHOD(bool, MarkRetry,
              (int64_t id, const std::string& claimer, const std::string& error,
               int64_t next_attempt_at),
              (override));
  MOCK_METHOD(bool, MarkDead, (int64_t id, const std::string& claimer, const std::string& error),
              (override));
  MOCK_METHOD(bool, Release, (int64_t id, const std::string& claimer, int64_t now), (override));
  MOCK_METHOD(std::vector<db::NotificationLogRow>, List, (const db::NotificationLogFilter& filter),
              (override));
  MOCK_METHOD(int, PurgeFinished, (int64_t before, int limit), (override));
};

class MockInvoiceRepository : public db::InvoiceRepository {
 public:
  MOCK_METHOD(std::optional<domain::Invoice>, Find, (const std::string& invoice_id), (override));
  MOCK_METHOD(bool, UpsertIfNewer, (const domain::Invoice& invoice), (override));
  MOCK_METHOD(std::vector<domain::Invoice>, ListForTenant,
              (const std::string& tenant_id, const std::optional<db::InvoiceCursor>& after,
               int limit),
              (override));
};

class MockSessionRepository : public db::SessionRepository {
 public:
  MOCK_METHOD(bool, Insert, (const db::WebSession& session), (override));
  MOCK_METHOD(std::optional<db::WebSession>, Find, (const std::string& session_id), (override));
  MOCK_METHOD(bool, End, (const std::string& session_id, int64_t now), (override));
  MOCK_METHOD(int64_t, PurgeExpired, (int64_t expired_before), (override));
};

class MockUnitOfWork : public db::UnitOfWork {
 public:
  MockUnitOfWork() {
    ON_CALL(*this, subscriptions()).WillByDefault(::testing::ReturnRef(subscriptions_));
    ON_CALL(*this, events()).WillByDefault(::testing::ReturnRef(events_));
    ON_CALL(*this, checkouts()).WillByDefault(::testing::ReturnRef(checkouts_));
    ON_CALL(*this, audit()).WillByDefault(::testing::ReturnRef(audit_));
    ON_CALL(*this, notifications()).WillByDefault(::testing::ReturnRef(notifications_));
    ON_CALL(*this, invoices()).WillByDefault(::testing::ReturnRef(invoices_));
    ON_CALL(*this, sessions()).WillByDefault(::testing::ReturnRef(sessions_));
  }
  MOCK_METHOD(db::SubscriptionRepository&, subscriptions, (), (override));
  MOCK_METHOD(db::EventRepository&, events, (), (override));
  MOCK_METHOD(db::CheckoutRepository&, checkouts, (), (override));
  MOCK_METHOD(db::AuditLog&, audit, (), (override));
  MOCK_METHOD(db::NotificationRepository&, notifications, (), (override));
  MOCK_METHOD(db::InvoiceRepository&, invoices, (), (override));
  MOCK_METHOD(db::SessionRepository&, sessions, (), (override));
  MOCK_METHOD(void, LockTenant, (const std::string& tenant_id), (override));
  MOCK_METHOD(void, Commit, (), (override));

  ::testing::NiceMock<MockSubscriptionRepository> subscriptions_;
  ::testing::NiceMock<MockEventRepository> events_;
  ::testing::NiceMock<MockCheckoutRepository> checkouts_;
  ::testing::NiceMock<MockAuditLog> audit_;
  ::testing::NiceMock<MockNotificationRepository> notifications_;
  ::testing::NiceMock<MockInvoiceRepository> invoices_;
  ::testing::NiceMock<MockSessionRepository> sessions_;
};

// Runs every unit of work on one MockUnitOfWork, counting transactions and reads.
class FakeDatabase : public db::Database {
 public:
  void Transact(std::string_view, const std::function<void(db::UnitOfWork&)>& work) override {
    ++transactions;
    work(unit);
  }
  void Read(std::string_view, const std::function<void(db::UnitOfWork&)>& work) override {
    ++reads;
    work(unit);
  }
  bool Ping() override { return true; }

  ::testing::NiceMock<MockUnitOfWork> unit;
  int transactions = 0;
  int reads = 0;
};

}  // namespace paybell::testing

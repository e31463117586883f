// The SOCI implementations of the repositories, one set per pooled connection, each keeping
// its statements prepared on that connection. Only db/ sees this header.
#pragma once

#include <soci/soci.h>

#include <string_view>
#include <vector>

#include "db/audit_log.h"
#include "db/checkout_repository.h"
#include "db/event_repository.h"
#include "db/invoice_repository.h"
#include "db/notification_repository.h"
#include "db/prepared_statement.h"
#include "db/row_access.h"
#include "db/session_repository.h"
#include "db/subscription_repository.h"
#include "server/common/database_url.h"

namespace paybell::db {

using common::DatabaseKind;

// The one dialect difference of the repositories that hand out work: appended to a SELECT that
// picks rows to update, PostgreSQL locks them and skips rows another transaction holds, so
// concurrent callers (threads or replicas) take disjoint rows without waiting; SQLite has no row
// locks and needs none (BEGIN IMMEDIATE: one writer at a time).
inline std::string_view SkipLockedRows(DatabaseKind kind) {
  return kind == DatabaseKind::kPostgres ? " FOR UPDATE SKIP LOCKED" : "";
}

// A list bound as one JSON array parameter (":ids" = '["a","b"]' or '[1,2]'), read as a
// one-column subquery: the same statement for any number of values. Text and BIGINT elements.
inline std::string_view JsonTextElements(DatabaseKind kind) {
  return kind == DatabaseKind::kPostgres ? "SELECT jsonb_array_elements_text(CAST(:ids AS jsonb))"
                                         : "SELECT value FROM json_each(:ids)";
}
inline std::string_view JsonBigintElements(DatabaseKind kind) {
  return kind == DatabaseKind::kPostgres
             ? "SELECT CAST(jsonb_array_elements_text(CAST(:ids AS jsonb)) AS BIGINT)"
             : "SELECT value FROM json_each(:ids)";
}

class SociSubscriptionRepository final : public SubscriptionRepository {
 public:
  explicit SociSubscriptionRepository(soci::session& session);
  ~SociSubscriptionRepository() override;
  std::optional<domain::Subscription> Find(const std::string& tenant_id) override;
  std::vector<domain::Subscription> FindMany(const std::vector<std::string>& tenant_ids) override;
  void Upsert(const domain::Subscription& subscription) override;
  std::vector<domain::Subscription> List(const std::optional<domain::SubscriptionStatus>& status,
                                         const std::string& after_tenant_id, int limit) override;
  std::optional<std::string> FindTenantByStripeIds(const std::string& subscription_id,
                                                   const std::string& customer_id) override;
  void ForgetServerStatements(bool postgres);

 private:
  struct Row;  // the bound values of one row
  soci::session& session_;
  std::string key_;
  // FindMany's statement reads this many tenants per execution.
  static constexpr size_t kFindManyIds = 32;
  KeySlots<kFindManyIds> find_many_keys_;
  std::unique_ptr<Row> values_;
  PreparedStatement find_, find_many_, upsert_, tenant_by_subscription_, tenant_by_customer_;
};

class SociEventRepository final : public EventRepository {
 public:
  explicit SociEventRepository(soci::session& session) : session_(session) {}
  bool InsertIfNew(EventRecord event) override;
  void CountDuplicateDelivery(const std::string& event_id) override;
  void SetOutcome(const std::string& event_id, const std::string& tenant_id,
                  domain::EventOutcome outcome, const std::string& error, int64_t processed_at,
                  bool replayed) override;
  std::optional<EventRecord> Find(const std::string& event_id, bool with_payload) override;
  std::vector<std::string> StoredAmong(const std::vector<std::string>& event_ids) override;
  std::vector<EventRecord> List(const EventFilter& filter) override;
  std::optional<int64_t> NewestSubscriptionEventCreated(
      const std::string& stripe_subscription_id) override;
  std::optional<int64_t> SyncedUntil() override;
  void SetSyncedUntil(int64_t covered_until) override;
  std::optional<int64_t> LastFinished(Job job) override;
  void SetLastFinished(Job job, int64_t at) override;
  void ForgetServerStatements(bool postgres);

 private:
  soci::session& session_;
  EventRecord event_;  // bound values of InsertIfNew and SetOutcome
  std::string outcome_, source_;
  long long created_ = 0, received_at_ = 0, processed_at_ = 0;
  NullableInt processed_at_nullable_{std::nullopt};
  int livemode_ = 0, replayed_ = 0;
  std::string key_;
  static constexpr size_t kStoredAmongIds = 100;  // a page of Stripe's event list
  KeySlots<kStoredAmongIds> stored_among_keys_;
  std::string stored_id_;
  PreparedStatement insert_, count_duplicate_, set_outcome_, find_, find_with_payload_,
      stored_among_;
};

class SociCheckoutRepository final : public CheckoutRepository {
 public:
  explicit SociCheckoutRepository(soci::session& session) : session_(session) {}
  void Insert(const CheckoutSessionRecord& record) override;
  void MarkComplete(const std::string& session_id, int64_t at) override;
  std::vector<OpenCheckout> ListOpen(const std::string& tenant_id, int64_t since) override;
  void SetStatus(const std::string& session_id, domain::CheckoutStatus status) override;
  std::optional<domain::CheckoutStatus> StatusOf(const std::string& session_id) override;
  std::optional<CheckoutSessionRecord> FindByIdempotencyKey(
      const std::string& tenant_id, const std::string& idempotency_key) override;
  bool TryClaim(const std::string& tenant_id, const std::string& claim_id, int64_t now,
                int64_t lease_until) override;
  void ReleaseClaim(const std::string& tenant_id, const std::string& claim_id) override;
  void ForgetServerStatements(bool postgres);

 private:
  soci::session& session_;
  // Bound by the statements below, so declared (and destroyed) around them.
  std::string tenant_, claim_;
  long long now_ = 0, until_ = 0;
  PreparedStatement try_claim_, release_claim_;
};

class SociNotificationRepository final : public NotificationRepository {
 public:
  SociNotificationRepository(soci::session& session, DatabaseKind kind);
  ~SociNotificationRepository() override;
  std::optional<domain::NotificationSettings> FindSettings(const std::string& tenant_id) override;
  std::map<std::string, domain::NotificationSettings> FindSettingsMany(
      const std::vector<std::string>& tenant_ids) override;
  void SaveSettings(const domain::NotificationSettings& settings,
                    const std::string& updated_by) override;
  void MarkSlackBroken(const std::string& tenant_id, const std::string& url) override;
  DebounceOutcome Debounce(const DebounceKey& key, int64_t now, int64_t window_s) override;
  std::vector<ClosedWindow> TakeClosedWindows(int64_t now, int64_t window_s, int limit) override;
  std::optional<int64_t> Append(const NotificationLogRow& row) override;
  std::optional<NotificationLogRow> Find(int64_t id) override;
  bool HasDedupeKey(const std::string& dedupe_key) override;
  std::vector<NotificationLogRow> ListSuppressed(const DebounceKey& key, int64_t from, int64_t to,
                                                 int limit) override;
  std::vector<NotificationLogRow> ClaimDue(const std::string& claimer, int64_t now, int64_t lease_s,
                                           int limit) override;
  bool MarkSent(int64_t id, const std::string& claimer, int64_t now) override;
  bool MarkRetry(int64_t id, const std::string& claimer, const std::string& error,
                 int64_t next_attempt_at) override;
  bool MarkDead(int64_t id, const std::string& claimer, const std::string& error) override;
  std::vector<int64_t> MarkSentMany(const std::vector<int64_t>& ids, const std::string& claimer,
                                    int64_t now) override;
  bool Release(int64_t id, const std::string& claimer, int64_t now) override;
  std::vector<NotificationLogRow> List(const NotificationLogFilter& filter) override;
  int PurgeFinished(int64_t before, int limit) override;
  void ForgetServerStatements(bool postgres);

 private:
  soci::session& session_;
  DatabaseKind kind_;
  // The values the prepared statements bind (soci::use keeps references), declared before the
  // statements so they outlive them. Statements that never run at the same time share fields.
  struct Bound {
    std::string tenant_id, trigger, channel, claimer, text, ids;
    long long now = 0, cutoff = 0, until = 0, id = 0;
    int limit = 0;
    std::string kind, decision, status, last_error, payload, dedupe_key, summary;
    soci::indicator dedupe_indicator = soci::i_null;
    int attempts = 0;
    NullableInt next_attempt_at{std::nullopt}, sent_at{std::nullopt};
    long long created_at = 0;
  } bound_;
  PreparedStatement find_settings_, debounce_, take_closed_, append_, has_dedupe_key_, claim_due_,
      mark_sent_, mark_retry_, mark_dead_, find_settings_many_, mark_sent_many_, release_;
};

class SociInvoiceRepository final : public InvoiceRepository {
 public:
  explicit SociInvoiceRepository(soci::session& session);
  ~SociInvoiceRepository() override;
  std::optional<domain::Invoice> Find(const std::string& invoice_id) override;
  bool UpsertIfNewer(const domain::Invoice& invoice) override;
  std::vector<domain::Invoice> ListForTenant(const std::string& tenant_id,
                                             const std::optional<InvoiceCursor>& after,
                                             int limit) override;
  void ForgetServerStatements(bool postgres);

 private:
  struct Bound;  // the values the statements bind, declared (and destroyed) around them
  soci::session& session_;
  std::unique_ptr<Bound> bound_;
  PreparedStatement find_, upsert_, list_;
};

class SociAuditLog final : public AuditLog {
 public:
  explicit SociAuditLog(soci::session& session) : session_(session) {}
  void Append(const AuditEntry& entry) override;
  std::vector<AuditEntry> ListForTenant(const std::string& tenant_id, int limit) override;
  void ForgetServerStatements(bool postgres);

 private:
  soci::session& session_;
  AuditEntry entry_;
  long long at_ = 0;
  PreparedStatement append_;
};

class SociSessionRepository final : public SessionRepository {
 public:
  explicit SociSessionRepository(soci::session& session) : session_(session) {}
  bool Insert(const WebSession& session) override;
  std::optional<WebSession> Find(const std::string& session_id) override;
  bool End(const std::string& session_id, int64_t now) override;
  int64_t PurgeExpired(int64_t expired_before) override;
  void ForgetServerStatements(bool postgres);

 private:
  soci::session& session_;
  std::string key_;  // bound by find_, so declared before it
  PreparedStatement find_;
};

// Everything prepared on one connection.
class SociRepositories {
 public:
  SociRepositories(soci::session& session, DatabaseKind kind)
      : kind_(kind),
        session_(session),
        subscriptions(session),
        events(session),
        checkouts(session),
        audit(session),
        notifications(session, kind),
        invoices(session),
        sessions(session) {}

  // PostgreSQL: a transaction-scoped advisory lock on the tenant, not a row lock: a tenant's
  // first events arrive before any row exists, and FOR UPDATE on no row locks nothing. Locks
  // them in the given order, in one round trip; nothing on SQLite (one writer at a time).
  void LockTenants(const std::vector<std::string>& tenant_ids);
  // A trivial query (readiness).
  void Ping();
  // See PreparedStatement::ForgetOnServer.
  void ForgetServerStatements(bool postgres);

 private:
  DatabaseKind kind_;
  soci::session& session_;
  std::string lock_key_;
  int ping_ = 0;
  PreparedStatement lock_tenant_, lock_tenants_, ping_statement_;

 public:
  SociSubscriptionRepository subscriptions;
  SociEventRepository events;
  SociCheckoutRepository checkouts;
  SociAuditLog audit;
  SociNotificationRepository notifications;
  SociInvoiceRepository invoices;
  SociSessionRepository sessions;
};

}  // namespace paybell::db

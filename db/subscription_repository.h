// Storage of billing_subscriptions: one row per tenant.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "db/pool.h"

namespace paybell::db {

// A billing_subscriptions row. Words are stored as Stripe spells them ("active", "pro").
struct SubscriptionRecord {
  std::string tenant_id;
  std::string stripe_customer_id;
  std::string stripe_subscription_id;
  std::string plan;    // "", "starter", "pro", "firm"
  std::string status;  // Stripe's status word
  std::optional<int64_t> current_period_start;
  std::optional<int64_t> current_period_end;
  bool cancel_at_period_end = false;
  std::optional<int64_t> cancel_at;
  std::optional<int64_t> canceled_at;
  std::optional<int64_t> trial_end;
  std::optional<int64_t> last_event_created;
  std::string last_event_id;
  int64_t created_at = 0;
  int64_t updated_at = 0;

  bool operator==(const SubscriptionRecord& other) const;
};

class SubscriptionRepository {
 public:
  virtual ~SubscriptionRepository() = default;
  // nullopt when the tenant has no row (never subscribed).
  virtual std::optional<SubscriptionRecord> Find(const std::string& tenant_id) = 0;
  // Inserts or replaces the tenant's row; created_at of an existing row is kept.
  virtual void Upsert(const SubscriptionRecord& record) = 0;
  // Rows ordered by tenant_id, after `after_tenant_id` (keyset pagination); `status` empty
  // means every status.
  virtual std::vector<SubscriptionRecord> List(const std::string& status,
                                               const std::string& after_tenant_id, int limit) = 0;
};

// Queries on a caller's session, so they can join a larger transaction (webhook application).
namespace subscription_sql {
std::optional<SubscriptionRecord> Find(soci::session& session, const std::string& tenant_id);
void Upsert(soci::session& session, const SubscriptionRecord& record);
}  // namespace subscription_sql

class SociSubscriptionRepository final : public SubscriptionRepository {
 public:
  explicit SociSubscriptionRepository(ConnectionPool& pool) : pool_(pool) {}
  std::optional<SubscriptionRecord> Find(const std::string& tenant_id) override;
  void Upsert(const SubscriptionRecord& record) override;
  std::vector<SubscriptionRecord> List(const std::string& status,
                                       const std::string& after_tenant_id, int limit) override;

 private:
  ConnectionPool& pool_;
};

}  // namespace paybell::db

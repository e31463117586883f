// billing_subscriptions: one row per tenant, the subscription Paybell follows for it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "server/domain/subscription.h"

namespace paybell::db {

class SubscriptionRepository {
 public:
  virtual ~SubscriptionRepository() = default;
  // nullopt when the tenant has no row (never subscribed).
  virtual std::optional<domain::Subscription> Find(const std::string& tenant_id) = 0;
  // The rows of those of `tenant_ids` that have one (a tenant named twice comes once), in no
  // particular order: one round trip per 32 tenants instead of one each.
  virtual std::vector<domain::Subscription> FindMany(
      const std::vector<std::string>& tenant_ids) = 0;
  // Inserts or replaces the tenant's row; created_at of an existing row is kept.
  virtual void Upsert(const domain::Subscription& subscription) = 0;
  // Rows ordered by tenant_id, after `after_tenant_id` (keyset pagination); no status means
  // every status.
  virtual std::vector<domain::Subscription> List(
      const std::optional<domain::SubscriptionStatus>& status, const std::string& after_tenant_id,
      int limit) = 0;
  // The tenant whose row holds this Stripe subscription id, else this customer id; "" (either
  // id) matches nothing.
  virtual std::optional<std::string> FindTenantByStripeIds(const std::string& subscription_id,
                                                           const std::string& customer_id) = 0;
};

}  // namespace paybell::db

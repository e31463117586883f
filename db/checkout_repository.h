// checkout_sessions (every checkout Paybell started) and checkout_claims (who is starting one
// for a tenant right now).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "server/domain/checkout_status.h"
#include "server/domain/plan.h"

namespace paybell::db {

struct CheckoutSessionRecord {
  std::string session_id;
  std::string tenant_id;
  domain::Plan plan = domain::Plan::kNone;
  std::string url;
  bool stub = false;
  std::string coupon_code;
  std::string promotion_code_id;
  std::string idempotency_key;
  std::string created_by;
  int64_t created_at = 0;
  domain::CheckoutStatus status = domain::CheckoutStatus::kOpen;  // read only; Insert stores open
};

struct OpenCheckout {
  std::string session_id;
  std::string idempotency_key;
};

class CheckoutRepository {
 public:
  virtual ~CheckoutRepository() = default;
  // Inserts the session; a session id seen before (Stripe answered a retried request with the
  // same session) is left as it is.
  virtual void Insert(const CheckoutSessionRecord& record) = 0;
  // Marks a session complete when Stripe reports it (checkout.session.completed).
  virtual void MarkComplete(const std::string& session_id, int64_t at) = 0;
  // Sessions of the tenant still recorded as open and created at or after `since`, oldest
  // first. Stub sessions are never listed.
  virtual std::vector<OpenCheckout> ListOpen(const std::string& tenant_id, int64_t since) = 0;
  // Records what Stripe says a session became.
  virtual void SetStatus(const std::string& session_id, domain::CheckoutStatus status) = 0;
  virtual std::optional<domain::CheckoutStatus> StatusOf(const std::string& session_id) = 0;
  // The tenant's newest session recorded with this idempotency key (the request's meaning:
  // tenant, plan, price, coupon, customer, time window), if any.
  virtual std::optional<CheckoutSessionRecord> FindByIdempotencyKey(
      const std::string& tenant_id, const std::string& idempotency_key) = 0;

  // Takes the tenant's checkout claim until `lease_until` unless another holder's claim is
  // still unexpired at `now`: true when taken. One claim per tenant serialises "list open
  // sessions → create one at Stripe → record it" across requests and replicas without holding
  // a transaction open across the Stripe call.
  virtual bool TryClaim(const std::string& tenant_id, const std::string& claim_id, int64_t now,
                        int64_t lease_until) = 0;
  // Gives the claim back (only if `claim_id` still holds it).
  virtual void ReleaseClaim(const std::string& tenant_id, const std::string& claim_id) = 0;
};

}  // namespace paybell::db

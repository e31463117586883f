// Checkout and Customer Portal: the rules (who may buy what, when), the Stripe calls, the
// record and the audit. Stub mode (no Stripe key) answers locally and sends nothing.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "db/unit_of_work.h"
#include "server/auth/principal.h"
#include "server/common/clock.h"
#include "server/common/config.h"
#include "server/domain/checkout_status.h"
#include "server/domain/plan.h"
#include "server/domain/subscription.h"
#include "server/stripe/stripe_api.h"

namespace paybell::billing {

struct CheckoutResult {
  std::string url;
  std::string session_id;
  bool stub = false;
};

struct PortalResult {
  std::string url;
  bool stub = false;
};

// Where a stub checkout or portal link points: a page of the adapter explaining that Stripe is
// not configured.
inline constexpr char kStripeNotConfiguredPath[] = "/billing/stripe-not-configured";

// When a tenant may start a checkout: never while it has a live subscription (the one rule the
// webhook rules also follow, domain::IsLive). Throws FAILED_PRECONDITION saying what to do.
void RequireNoLiveSubscription(const std::string& tenant_id,
                               const std::optional<domain::Subscription>& current);

class CheckoutService {
 public:
  // `stripe` is nullptr in stub mode.
  CheckoutService(db::Database& database, const common::Config& config, const common::Clock& clock,
                  stripe::StripeApi* stripe);

  // The caller was authorised already. Every Stripe call of the operation shares `deadline`.
  // One request at a time per tenant, across replicas, lists the open sessions, creates one and
  // records it (a claim in checkout_claims), so two tabs or a double click leave one open
  // session. Throws common::Error: INVALID_ARGUMENT (coupon format, unknown coupon, Stripe
  // refusing the request), FAILED_PRECONDITION (plan without a price, live subscription, Stripe
  // key rejected), UNAVAILABLE (Stripe down after retries, another checkout of the tenant still
  // being created, out of time).
  CheckoutResult CreateCheckoutSession(const auth::Principal& caller, const std::string& tenant_id,
                                       domain::Plan plan, const std::string& coupon_code,
                                       const std::string& request_id, stripe::Deadline deadline);

  // FAILED_PRECONDITION "no subscription yet" for a tenant without a Stripe customer.
  PortalResult GetPortalLink(const auth::Principal& caller, const std::string& tenant_id,
                             const std::string& request_id, stripe::Deadline deadline);

 private:
  class Claim;
  std::optional<domain::Subscription> FindSubscription(const std::string& tenant_id);
  // What Stripe says the session is now; nullopt for a status Paybell does not know.
  std::optional<domain::CheckoutStatus> StatusAtStripe(const std::string& path,
                                                       stripe::Deadline deadline);
  std::string ResolvePromotionCode(const std::string& coupon_code, stripe::Deadline deadline);
  // Expires the tenant's other open checkout sessions; FAILED_PRECONDITION when one of them was
  // paid already.
  void CloseOtherCheckouts(const std::string& tenant_id, const std::string& idempotency_key,
                           stripe::Deadline deadline);
  db::AuditEntry Audit(const auth::Principal& caller, const std::string& tenant_id,
                       const std::string& action, const std::string& target,
                       const std::string& detail, const std::string& request_id) const;

  db::Database& database_;
  const common::Config& config_;
  const common::Clock& clock_;
  stripe::StripeApi* stripe_;
};

}  // namespace paybell::billing

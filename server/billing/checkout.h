// Checkout and Customer Portal: the rules (who may buy what, when), the Stripe calls, the
// record and the audit. Stub mode (no Stripe key) answers locally and sends nothing.
#pragma once

#include <string>
#include <vector>

#include "server/auth/principal.h"
#include "server/common/clock.h"
#include "server/common/config.h"
#include "db/pool.h"
#include "db/subscription_repository.h"
#include "paybell/v1/billing.pb.h"
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

class CheckoutService {
 public:
  // `stripe` is nullptr in stub mode.
  CheckoutService(db::ConnectionPool& pool, db::SubscriptionRepository& subscriptions,
                  const common::Config& config, const common::Clock& clock,
                  stripe::StripeApi* stripe);

  // The caller was authorised already. Throws common::Error: INVALID_ARGUMENT (plan, coupon
  // format, unknown coupon, Stripe refusing the request), FAILED_PRECONDITION (plan without a
  // price, live subscription, Stripe key rejected), UNAVAILABLE (Stripe down after retries).
  CheckoutResult CreateCheckoutSession(const auth::Principal& caller, const std::string& tenant_id,
                                       v1::Plan plan, const std::string& coupon_code,
                                       const std::string& request_id);

  // FAILED_PRECONDITION "no subscription yet" for a tenant without a Stripe customer.
  PortalResult GetPortalLink(const auth::Principal& caller, const std::string& tenant_id,
                             const std::string& request_id);

 private:
  std::string ResolvePromotionCode(const std::string& coupon_code, stripe::Deadline deadline);
  // Expires the tenant's other open checkout sessions (returns their ids); FAILED_PRECONDITION
  // when one of them was paid already.
  std::vector<std::string> CloseOtherCheckouts(const std::string& tenant_id,
                                               const std::string& idempotency_key,
                                               stripe::Deadline deadline);
  void Record(const auth::Principal& caller, const std::string& tenant_id,
              const std::string& action, const std::string& target, const std::string& detail,
              const std::string& request_id, const std::function<void(soci::session&)>& extra);

  db::ConnectionPool& pool_;
  db::SubscriptionRepository& subscriptions_;
  const common::Config& config_;
  const common::Clock& clock_;
  stripe::StripeApi* stripe_;
};

}  // namespace paybell::billing

#include "server/billing/checkout.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <thread>

#include "server/billing/billing_config.h"
#include "server/common/error.h"
#include "server/common/request_id.h"
#include "server/stripe/form_encoding.h"
#include "server/stripe/idempotency.h"

namespace paybell::billing {

using common::Error;
using common::ErrorCode;
using domain::CheckoutStatus;

namespace {

// A user double-clicking or a client retrying within this window reuses the Stripe answer.
// Short, because Stripe also replays a stored 500 for the key: after a failure, the user's
// next try soon gets a fresh key.
constexpr int64_t kCheckoutIdempotencyWindowS = 120;
constexpr int64_t kPortalIdempotencyWindowS = 60;
// Stripe expires an unpaid checkout session after 24 hours.
constexpr int64_t kCheckoutLifetimeS = 24 * 3600;
// A claim outlives any operation holding it (the Stripe budget is at most 25 s), and frees the
// tenant within a minute when its holder died.
constexpr int64_t kClaimLeaseS = 60;
// How long a second request waits for the first one's claim before answering UNAVAILABLE.
constexpr auto kClaimWait = std::chrono::seconds(10);
constexpr auto kClaimPoll = std::chrono::milliseconds(50);

void ValidateCouponCode(const std::string& code) {
  const bool ok = code.size() <= 64 && std::all_of(code.begin(), code.end(), [](char c) {
                    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
                  });
  if (!ok) {
    throw Error(ErrorCode::kInvalidArgument,
                "coupon_code must be up to 64 letters, digits, '-' or '_'");
  }
}

std::string StringField(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

std::string PriceVariable(domain::Plan plan) {
  for (const domain::PlanInfo& info : domain::Plans()) {
    if (info.plan == plan) return std::string(info.price_env);
  }
  return "STRIPE_PRICE_*";
}

}  // namespace

void RequireNoLiveSubscription(const std::string& tenant_id,
                               const std::optional<domain::Subscription>& current) {
  if (!domain::HasLiveSubscription(current)) return;
  const std::string status(domain::StatusWord(current->status));
  std::string what;
  switch (current->status) {
    case domain::SubscriptionStatus::kIncomplete:
      what =
          "its first payment is not complete: pay the invoice Stripe sent, or wait until it "
          "expires (23 hours) before starting a new checkout";
      break;
    case domain::SubscriptionStatus::kUnpaid:
    case domain::SubscriptionStatus::kPaused:
      what = "pay or resume it in the billing portal (GetPortalLink)";
      break;
    default:
      what = "change or cancel it in the billing portal (GetPortalLink)";
      break;
  }
  throw Error(ErrorCode::kFailedPrecondition,
              "tenant " + tenant_id + " already has a " + status + " subscription; " + what);
}

// The tenant's checkout claim, taken for the duration of one operation and given back when it
// ends (or left to expire if the process dies).
class CheckoutService::Claim {
 public:
  Claim(CheckoutService& service, const std::string& tenant_id)
      : service_(service), tenant_id_(tenant_id), claim_id_(common::NewRequestId()) {}
  ~Claim() {
    if (!held_) return;
    try {
      Release(nullptr);
    } catch (const std::exception& e) {
      spdlog::warn("could not release the checkout claim of tenant {}: {} (it expires in {} s)",
                   tenant_id_, e.what(), kClaimLeaseS);
    }
  }

  // Takes the claim, waiting for another holder to finish. Returns the tenant's subscription as
  // read under the claim.
  std::optional<domain::Subscription> Take(stripe::Deadline deadline) {
    const auto give_up = std::min(deadline, std::chrono::steady_clock::now() + kClaimWait);
    std::optional<domain::Subscription> current;
    for (;;) {
      service_.database_.Transact("claim checkout", [&](db::UnitOfWork& unit) {
        const int64_t now = service_.clock_.NowUnix();
        held_ = unit.checkouts().TryClaim(tenant_id_, claim_id_, now, now + kClaimLeaseS);
        current = unit.subscriptions().Find(tenant_id_);
        unit.Commit();
      });
      if (held_) return current;
      if (std::chrono::steady_clock::now() + kClaimPoll >= give_up) {
        throw Error(ErrorCode::kUnavailable, "another checkout for tenant " + tenant_id_ +
                                                 " is being created right now; try again");
      }
      std::this_thread::sleep_for(kClaimPoll);
    }
  }

  // Gives the claim back in `unit` (the transaction recording the result), or on its own.
  void Release(db::UnitOfWork* unit) {
    if (unit != nullptr) {
      unit->checkouts().ReleaseClaim(tenant_id_, claim_id_);
    } else {
      service_.database_.Transact("release checkout claim", [&](db::UnitOfWork& own) {
        own.checkouts().ReleaseClaim(tenant_id_, claim_id_);
        own.Commit();
      });
    }
  }
  void MarkReleased() { held_ = false; }

 private:
  CheckoutService& service_;
  std::string tenant_id_;
  std::string claim_id_;
  bool held_ = false;
};

CheckoutService::CheckoutService(db::Database& database, const common::Config& config,
                                 const common::Clock& clock, stripe::StripeApi* stripe)
    : database_(database), config_(config), clock_(clock), stripe_(stripe) {}

std::optional<domain::Subscription> CheckoutService::FindSubscription(
    const std::string& tenant_id) {
  std::optional<domain::Subscription> found;
  database_.Read("read subscription",
                 [&](db::UnitOfWork& unit) { found = unit.subscriptions().Find(tenant_id); });
  return found;
}

std::string CheckoutService::ResolvePromotionCode(const std::string& coupon_code,
                                                  stripe::Deadline deadline) {
  const nlohmann::json list =
      stripe_->Get("/v1/promotion_codes", {{"code", coupon_code}, {"active", "true"}}, deadline);
  const auto data = list.find("data");
  if (data != list.end() && data->is_array()) {
    for (const auto& promo : *data) {
      const std::string id = StringField(promo, "id");
      if (!id.empty()) return id;
    }
  }
  throw Error(ErrorCode::kInvalidArgument, "coupon not found: " + coupon_code);
}

// One open checkout per tenant: paying two (Pro in one tab, Firm in another) would bill two
// subscriptions, and Paybell follows only one. Sessions of this same request (same
// Idempotency-Key: a double click) are left alone, since Stripe answers it with that session.
std::optional<CheckoutStatus> CheckoutService::StatusAtStripe(const std::string& path,
                                                              stripe::Deadline deadline) {
  return domain::CheckoutStatusFromWord(StringField(stripe_->Get(path, {}, deadline), "status"));
}

void CheckoutService::CloseOtherCheckouts(const std::string& tenant_id,
                                          const std::string& idempotency_key,
                                          stripe::Deadline deadline) {
  std::vector<db::OpenCheckout> open;
  database_.Read("list open checkouts", [&](db::UnitOfWork& unit) {
    open = unit.checkouts().ListOpen(tenant_id, clock_.NowUnix() - kCheckoutLifetimeS);
  });
  auto record = [&](const std::string& session_id, CheckoutStatus status) {
    database_.Transact("record checkout status", [&](db::UnitOfWork& unit) {
      unit.checkouts().SetStatus(session_id, status);
      unit.Commit();
    });
  };
  for (const db::OpenCheckout& session : open) {
    if (session.idempotency_key == idempotency_key) continue;
    const std::string path = "/v1/checkout/sessions/" + stripe::PercentEncode(session.session_id);
    std::optional<CheckoutStatus> status;
    try {
      status = StatusAtStripe(path, deadline);
      if (status == CheckoutStatus::kOpen) {
        // The same bounded window as the create key: a 5xx Stripe stored for this key is
        // replayed only until the window turns, not for Stripe's 24 hours.
        const std::string key = stripe::DeriveIdempotencyKey(
            "expire", {session.session_id}, clock_.NowUnix(), kCheckoutIdempotencyWindowS);
        try {
          status = domain::CheckoutStatusFromWord(
              StringField(stripe_->Post(path + "/expire", {}, key, deadline), "status"));
        } catch (const Error& e) {
          // Stripe refuses to expire a session that is no longer open: it was paid (or
          // expired) since it was read. Read it again to know which.
          if (e.code() != ErrorCode::kInvalidArgument) throw;
          status = StatusAtStripe(path, deadline);
        }
      }
    } catch (const Error& e) {
      // Stripe does not know the session (a key switched between test and live mode, or the
      // session was purged): it can no longer be paid, so it is gone for Paybell too.
      if (e.code() != ErrorCode::kNotFound) throw;
      spdlog::info("checkout {} of tenant {} is unknown to Stripe; recorded as expired",
                   session.session_id, tenant_id);
      status = CheckoutStatus::kExpired;
    }
    if (!status || *status == CheckoutStatus::kOpen) {
      // Recording it closed while it may still be payable would allow a second open session.
      throw Error(ErrorCode::kUnavailable, "Stripe did not confirm that checkout " +
                                               session.session_id + " is closed; try again");
    }
    record(session.session_id, *status);
    if (*status == CheckoutStatus::kComplete) {
      throw Error(ErrorCode::kFailedPrecondition,
                  "checkout " + session.session_id + " of tenant " + tenant_id +
                      " was just paid; its subscription is being activated");
    }
  }
}

db::AuditEntry CheckoutService::Audit(const auth::Principal& caller, const std::string& tenant_id,
                                      const std::string& action, const std::string& target,
                                      const std::string& detail,
                                      const std::string& request_id) const {
  db::AuditEntry audit;
  audit.at = clock_.NowUnix();
  audit.actor = caller.subject;
  audit.actor_role = std::string(auth::RoleName(caller.role));
  audit.tenant_id = tenant_id;
  audit.action = action;
  audit.target = target;
  audit.detail = detail;
  audit.request_id = request_id;
  if (!caller.actor.empty()) {
    // An operator acted through a token for the tenant's role (paybellctl checkout): the log
    // names the operator, and says as whom.
    audit.actor = caller.actor;
    audit.actor_role = "operator";
    nlohmann::json with_subject = nlohmann::json::parse(detail);
    with_subject["on_behalf_of"] = {{"sub", caller.subject},
                                    {"role", std::string(auth::RoleName(caller.role))}};
    audit.detail = with_subject.dump();
  }
  return audit;
}

CheckoutResult CheckoutService::CreateCheckoutSession(
    const auth::Principal& caller, const std::string& tenant_id, domain::Plan plan,
    const std::string& coupon_code, const std::string& request_id, stripe::Deadline deadline) {
  const std::string plan_word(domain::PlanWord(plan));
  if (plan_word.empty()) {
    throw Error(ErrorCode::kInvalidArgument, "plan must be PLAN_STARTER, PLAN_PRO or PLAN_FIRM");
  }
  ValidateCouponCode(coupon_code);
  RequireNoLiveSubscription(tenant_id, FindSubscription(tenant_id));

  db::CheckoutSessionRecord record;
  record.tenant_id = tenant_id;
  record.plan = plan;
  record.coupon_code = coupon_code;
  record.created_by = caller.subject;
  record.created_at = clock_.NowUnix();

  std::optional<Claim> claim;
  if (stripe_ == nullptr) {
    record.stub = true;
    record.session_id = "stub_cs_" + common::NewRequestId();
    record.url = config_.app_url + kStripeNotConfiguredPath + "?plan=" + plan_word;
    spdlog::info("stub checkout for tenant {} plan {}: Stripe is not configured", tenant_id,
                 plan_word);
  } else {
    const std::string& price = PriceIdFor(config_, plan);
    if (price.empty()) {
      throw Error(ErrorCode::kFailedPrecondition,
                  "plan " + plan_word + " has no Stripe price: set " + PriceVariable(plan));
    }
    if (!coupon_code.empty())
      record.promotion_code_id = ResolvePromotionCode(coupon_code, deadline);

    claim.emplace(*this, tenant_id);
    const auto current = claim->Take(deadline);
    RequireNoLiveSubscription(tenant_id, current);  // a webhook may have landed meanwhile
    const std::string customer = current ? current->stripe_customer_id : "";
    stripe::FormFields form = {
        {"mode", "subscription"},
        {"line_items[0][price]", price},
        {"line_items[0][quantity]", "1"},
        {"client_reference_id", tenant_id},
        {"metadata[tenant_id]", tenant_id},
        {"metadata[plan]", plan_word},
        {"subscription_data[metadata][tenant_id]", tenant_id},
        {"subscription_data[metadata][plan]", plan_word},
        {"success_url",
         config_.app_url + "/billing?checkout=success&session_id={CHECKOUT_SESSION_ID}"},
        {"cancel_url", config_.app_url + "/billing?checkout=cancel"},
    };
    if (!customer.empty()) form.emplace_back("customer", customer);
    if (!record.promotion_code_id.empty()) {
      form.emplace_back("discounts[0][promotion_code]", record.promotion_code_id);
    } else {
      form.emplace_back("allow_promotion_codes", "true");
    }
    // The request's meaning in this time window: a double click or a client's retry finds the
    // session the first one created, still open, and gets it again.
    record.idempotency_key = stripe::DeriveIdempotencyKey(
        "checkout",
        {config_.app_url, tenant_id, plan_word, price, record.promotion_code_id, customer},
        clock_.NowUnix(), kCheckoutIdempotencyWindowS);
    std::optional<db::CheckoutSessionRecord> same;
    database_.Read("find checkout", [&](db::UnitOfWork& unit) {
      same = unit.checkouts().FindByIdempotencyKey(tenant_id, record.idempotency_key);
    });
    if (same && same->status == CheckoutStatus::kOpen) {
      spdlog::info("checkout for tenant {} repeats {}: answering the same session", tenant_id,
                   same->session_id);
      return {same->url, same->session_id, same->stub};
    }
    CloseOtherCheckouts(tenant_id, record.idempotency_key, deadline);
    // A session made under this key was closed since (another tab's checkout expired it):
    // Stripe would replay that closed session for the key, so this request needs another one,
    // derived from the closed session so that a retry of this request reuses it.
    const std::string stripe_key =
        same ? record.idempotency_key + "-after-" + same->session_id : record.idempotency_key;
    const nlohmann::json session =
        stripe_->Post("/v1/checkout/sessions", form, stripe_key, deadline);
    record.session_id = StringField(session, "id");
    record.url = StringField(session, "url");
    if (record.session_id.empty() || record.url.empty()) {
      throw Error(ErrorCode::kUnavailable, "Stripe answered a checkout session without id or url");
    }
  }

  const std::string detail = nlohmann::json{
      {"plan", plan_word},
      {"session_id", record.session_id},
      {"stub", record.stub},
      {"coupon_code",
       coupon_code}}.dump();
  database_.Transact("record checkout session", [&](db::UnitOfWork& unit) {
    unit.checkouts().Insert(record);
    unit.audit().Append(Audit(caller, tenant_id, "billing.checkout_session.created",
                              record.session_id, detail, request_id));
    if (claim) claim->Release(&unit);
    unit.Commit();
  });
  if (claim) claim->MarkReleased();
  return {record.url, record.session_id, record.stub};
}

PortalResult CheckoutService::GetPortalLink(const auth::Principal& caller,
                                            const std::string& tenant_id,
                                            const std::string& request_id,
                                            stripe::Deadline deadline) {
  PortalResult result;
  if (stripe_ == nullptr) {
    result.url = config_.app_url + kStripeNotConfiguredPath;
    result.stub = true;
  } else {
    const auto current = FindSubscription(tenant_id);
    if (!current || current->stripe_customer_id.empty()) {
      throw Error(ErrorCode::kFailedPrecondition,
                  "no subscription yet: tenant " + tenant_id + " has no Stripe customer");
    }
    const std::string& customer = current->stripe_customer_id;
    const nlohmann::json portal =
        stripe_->Post("/v1/billing_portal/sessions",
                      {{"customer", customer}, {"return_url", config_.app_url + "/billing"}},
                      stripe::DeriveIdempotencyKey("portal", {tenant_id, customer},
                                                   clock_.NowUnix(), kPortalIdempotencyWindowS),
                      deadline);
    result.url = StringField(portal, "url");
    if (result.url.empty()) {
      throw Error(ErrorCode::kUnavailable, "Stripe answered a portal session without url");
    }
  }
  database_.Transact("record portal session", [&](db::UnitOfWork& unit) {
    unit.audit().Append(Audit(caller, tenant_id, "billing.portal_session.created", tenant_id,
                              nlohmann::json{{"stub", result.stub}}.dump(), request_id));
    unit.Commit();
  });
  return result;
}

}  // namespace paybell::billing

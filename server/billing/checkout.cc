#include "server/billing/checkout.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <nlohmann/json.hpp>

#include "server/billing/billing_config.h"
#include "server/billing/subscription_rules.h"
#include "server/common/error.h"
#include "server/common/request_id.h"
#include "db/audit_repository.h"
#include "db/checkout_repository.h"
#include "db/subscription_repository.h"
#include "server/stripe/form_encoding.h"
#include "server/stripe/idempotency.h"

namespace paybell::billing {

using common::Error;
using common::ErrorCode;

namespace {

// A user double-clicking or a client retrying within this window reuses the Stripe answer.
// Short, because Stripe also replays a stored 500 for the key: after a failure, the user's
// next try soon gets a fresh key.
constexpr int64_t kCheckoutIdempotencyWindowS = 120;
constexpr int64_t kPortalIdempotencyWindowS = 60;
// Stripe expires an unpaid checkout session after 24 hours.
constexpr int64_t kCheckoutLifetimeS = 24 * 3600;

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

}  // namespace

CheckoutService::CheckoutService(db::ConnectionPool& pool,
                                 db::SubscriptionRepository& subscriptions,
                                 const common::Config& config, const common::Clock& clock,
                                 stripe::StripeApi* stripe)
    : pool_(pool), subscriptions_(subscriptions), config_(config), clock_(clock), stripe_(stripe) {}

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
std::vector<std::string> CheckoutService::CloseOtherCheckouts(const std::string& tenant_id,
                                                              const std::string& idempotency_key,
                                                              stripe::Deadline deadline) {
  std::vector<std::pair<std::string, std::string>> open;
  pool_.Run("list open checkouts", [&](soci::session& session) {
    open = db::checkout_sql::ListOpen(session, tenant_id, clock_.NowUnix() - kCheckoutLifetimeS);
  });
  std::vector<std::string> closed;
  for (const auto& [session_id, key] : open) {
    if (key == idempotency_key) continue;
    const std::string path = "/v1/checkout/sessions/" + stripe::PercentEncode(session_id);
    std::string status = StringField(stripe_->Get(path, {}, deadline), "status");
    if (status == "complete") {
      pool_.Run("record checkout status", [&](soci::session& session) {
        db::checkout_sql::SetStatus(session, session_id, "complete");
      });
      throw Error(ErrorCode::kFailedPrecondition,
                  "checkout " + session_id + " of tenant " + tenant_id +
                      " was just paid; its subscription is being activated");
    }
    if (status == "open") {
      status = StringField(
          stripe_->Post(path + "/expire", {},
                        stripe::DeriveIdempotencyKey("expire", {session_id}, clock_.NowUnix(), 0),
                        deadline),
          "status");
    }
    pool_.Run("record checkout status", [&](soci::session& session) {
      db::checkout_sql::SetStatus(session, session_id, status.empty() ? "expired" : status);
    });
    closed.push_back(session_id);
  }
  return closed;
}

void CheckoutService::Record(const auth::Principal& caller, const std::string& tenant_id,
                             const std::string& action, const std::string& target,
                             const std::string& detail, const std::string& request_id,
                             const std::function<void(soci::session&)>& extra) {
  pool_.Run("record " + action, [&](soci::session& session) {
    db::WriteTransaction tx(session, pool_.kind());
    if (extra) extra(session);
    db::AuditEntry audit;
    audit.at = clock_.NowUnix();
    audit.actor = caller.subject;
    audit.actor_role = std::string(auth::RoleName(caller.role));
    audit.tenant_id = tenant_id;
    audit.action = action;
    audit.target = target;
    audit.detail = detail;
    audit.request_id = request_id;
    db::audit_sql::Insert(session, audit);
    tx.Commit();
  });
}

CheckoutResult CheckoutService::CreateCheckoutSession(const auth::Principal& caller,
                                                      const std::string& tenant_id, v1::Plan plan,
                                                      const std::string& coupon_code,
                                                      const std::string& request_id) {
  const stripe::Deadline deadline = std::chrono::steady_clock::now() + std::chrono::seconds(25);
  const std::string plan_word(PlanWord(plan));
  if (plan_word.empty()) {
    throw Error(ErrorCode::kInvalidArgument, "plan must be PLAN_STARTER, PLAN_PRO or PLAN_FIRM");
  }
  ValidateCouponCode(coupon_code);
  const auto current = subscriptions_.Find(tenant_id);
  if (current && IsLive(StatusFromWord(current->status))) {
    throw Error(ErrorCode::kFailedPrecondition,
                "tenant " + tenant_id + " already has a " + current->status +
                    " subscription; change or cancel it in the billing portal (GetPortalLink)");
  }

  db::CheckoutSessionRecord record;
  record.tenant_id = tenant_id;
  record.plan = plan_word;
  record.coupon_code = coupon_code;
  record.created_by = caller.subject;
  record.created_at = clock_.NowUnix();

  std::vector<std::string> expired;
  if (stripe_ == nullptr) {
    record.stub = true;
    record.session_id = "stub_cs_" + common::NewRequestId();
    record.url = config_.app_url + kStripeNotConfiguredPath + "?plan=" + plan_word;
    spdlog::info("stub checkout for tenant {} plan {}: Stripe is not configured", tenant_id,
                 plan_word);
  } else {
    const std::string& price = PriceIdFor(config_, plan);
    if (price.empty()) {
      std::string variable = "STRIPE_PRICE_" + plan_word;
      std::transform(variable.begin(), variable.end(), variable.begin(),
                     [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
      throw Error(ErrorCode::kFailedPrecondition,
                  "plan " + plan_word + " has no Stripe price: set " + variable);
    }
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
    if (!coupon_code.empty()) {
      record.promotion_code_id = ResolvePromotionCode(coupon_code, deadline);
      form.emplace_back("discounts[0][promotion_code]", record.promotion_code_id);
    } else {
      form.emplace_back("allow_promotion_codes", "true");
    }
    record.idempotency_key = stripe::DeriveIdempotencyKey(
        "checkout",
        {config_.app_url, tenant_id, plan_word, price, record.promotion_code_id, customer},
        clock_.NowUnix(), kCheckoutIdempotencyWindowS);
    expired = CloseOtherCheckouts(tenant_id, record.idempotency_key, deadline);
    const nlohmann::json session =
        stripe_->Post("/v1/checkout/sessions", form, record.idempotency_key, deadline);
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
  Record(caller, tenant_id, "billing.checkout_session.created", record.session_id, detail,
         request_id, [&](soci::session& session) { db::checkout_sql::Insert(session, record); });
  return {record.url, record.session_id, record.stub};
}

PortalResult CheckoutService::GetPortalLink(const auth::Principal& caller,
                                            const std::string& tenant_id,
                                            const std::string& request_id) {
  const stripe::Deadline deadline = std::chrono::steady_clock::now() + std::chrono::seconds(25);
  PortalResult result;
  if (stripe_ == nullptr) {
    result.url = config_.app_url + kStripeNotConfiguredPath;
    result.stub = true;
  } else {
    const auto current = subscriptions_.Find(tenant_id);
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
  Record(caller, tenant_id, "billing.portal_session.created", tenant_id,
         nlohmann::json{{"stub", result.stub}}.dump(), request_id, nullptr);
  return result;
}

}  // namespace paybell::billing

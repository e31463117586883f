#include "tools/stripe-fake/store.h"

#include <algorithm>
#include <cctype>
#include <chrono>

namespace paybell::stripe_fake {
namespace {

constexpr int64_t kDay = 24 * 60 * 60;
constexpr int kPercentOff = 10;

std::string Lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

}  // namespace

std::string ObjectStore::NextId(const std::string& prefix) {
  // The start time in the id keeps ids unique across runs: a restarted fake must not hand out
  // evt_…/cus_… ids a Paybell database already holds (it would take a new event for a
  // duplicate, or give one tenant another's customer).
  static const char kDigits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string run;
  for (uint64_t t = static_cast<uint64_t>(started_at); t > 0; t /= 36) {
    run.insert(run.begin(), kDigits[t % 36]);
  }
  return prefix + run + "_" + std::to_string(++counters[prefix]);
}

bool ObjectStore::HasPrice(const std::string& id) const {
  return std::find(prices.begin(), prices.end(), id) != prices.end();
}

const PromotionCode* ObjectStore::FindPromotionCodeById(const std::string& id) const {
  for (const PromotionCode& promo : promotion_codes) {
    if (promo.id == id) return &promo;
  }
  return nullptr;
}

nlohmann::json ErrorBody(const std::string& type, const std::string& message,
                         const std::string& param, const std::string& code) {
  nlohmann::json error = {{"type", type}, {"message", message}};
  if (!param.empty()) error["param"] = param;
  if (!code.empty()) error["code"] = code;
  return {{"error", error}};
}

nlohmann::json PromotionCodeObject(const PromotionCode& promo, int64_t created) {
  const std::string coupon_id = "coupon_fake_" + Lowercase(promo.code);
  const nlohmann::json coupon = {
      {"id", coupon_id},       {"object", "coupon"},  {"percent_off", kPercentOff},
      {"amount_off", nullptr}, {"currency", nullptr}, {"duration", "once"},
      {"valid", true},         {"livemode", false},   {"metadata", nlohmann::json::object()},
      {"created", created},    {"name", promo.code}};
  return {{"id", promo.id},
          {"object", "promotion_code"},
          {"code", promo.code},
          {"active", true},
          // Both shapes: `coupon` (basil and earlier) and `promotion` (newer versions, as in
          // the shared fixtures), so a client written against either finds the discount.
          {"coupon", coupon},
          {"promotion", {{"type", "coupon"}, {"coupon", coupon_id}}},
          {"created", created},
          {"customer", nullptr},
          {"expires_at", nullptr},
          {"livemode", false},
          {"max_redemptions", nullptr},
          {"metadata", nlohmann::json::object()},
          {"restrictions",
           {{"first_time_transaction", false},
            {"minimum_amount", nullptr},
            {"minimum_amount_currency", nullptr}}},
          {"times_redeemed", 0}};
}

nlohmann::json CustomerObject(const std::string& id, const nlohmann::json& email, int64_t now) {
  return {{"id", id},
          {"object", "customer"},
          {"created", now},
          {"email", email},
          {"name", nullptr},
          {"description", nullptr},
          {"balance", 0},
          {"currency", "usd"},
          {"delinquent", false},
          {"livemode", false},
          {"metadata", nlohmann::json::object()},
          {"invoice_settings", {{"default_payment_method", nullptr}}},
          {"preferred_locales", nlohmann::json::array()},
          {"tax_exempt", "none"},
          {"test_clock", nullptr}};
}

nlohmann::json SubscriptionObject(const std::string& id, const std::string& item_id,
                                  const std::string& customer, const CheckoutRecord& checkout,
                                  int64_t now) {
  const int64_t period_end = now + 30 * kDay;
  const nlohmann::json price = {{"id", checkout.price},
                                {"object", "price"},
                                {"active", true},
                                {"currency", "usd"},
                                {"livemode", false},
                                {"type", "recurring"},
                                {"recurring", {{"interval", "month"}, {"interval_count", 1}}}};
  // Current API shape: the billing period lives on each item, not on the subscription.
  const nlohmann::json item = {{"id", item_id},
                               {"object", "subscription_item"},
                               {"created", now},
                               {"current_period_start", now},
                               {"current_period_end", period_end},
                               {"metadata", nlohmann::json::object()},
                               {"price", price},
                               {"quantity", checkout.quantity},
                               {"subscription", id}};
  return {{"id", id},
          {"object", "subscription"},
          {"status", "active"},
          {"customer", customer},
          {"metadata", checkout.subscription_metadata},
          {"items",
           {{"object", "list"},
            {"data", nlohmann::json::array({item})},
            {"has_more", false},
            {"url", "/v1/subscription_items?subscription=" + id}}},
          {"cancel_at_period_end", false},
          {"cancel_at", nullptr},
          {"canceled_at", nullptr},
          {"ended_at", nullptr},
          {"created", now},
          {"start_date", now},
          {"billing_cycle_anchor", now},
          {"collection_method", "charge_automatically"},
          {"currency", "usd"},
          {"latest_invoice", nullptr},
          {"discounts", nlohmann::json::array()},
          {"trial_start", nullptr},
          {"trial_end", nullptr},
          {"livemode", false}};
}

nlohmann::json EventObject(const std::string& id, const std::string& type,
                           const nlohmann::json& object, int64_t now) {
  return {{"id", id},
          {"object", "event"},
          {"api_version", kApiVersion},
          {"created", now},
          {"livemode", false},
          {"type", type},
          {"data", {{"object", object}}},
          {"pending_webhooks", 1},
          {"request", {{"id", nullptr}, {"idempotency_key", nullptr}}}};
}

int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace paybell::stripe_fake

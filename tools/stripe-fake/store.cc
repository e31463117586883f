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

int64_t UnitAmount(const std::string& price) {
  const auto ends_with = [&price](const std::string& suffix) {
    return price.size() >= suffix.size() &&
           price.compare(price.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (ends_with("_starter")) return 1900;
  if (ends_with("_pro")) return 4900;
  if (ends_with("_firm")) return 9900;
  return 1000;
}

nlohmann::json FirstInvoiceObject(const std::string& id, const std::string& line_id,
                                  const std::string& number, const nlohmann::json& subscription,
                                  const CheckoutRecord& checkout, const std::string& public_url,
                                  int64_t now) {
  const nlohmann::json& item = subscription["items"]["data"][0];
  const std::string subscription_id = subscription["id"].get<std::string>();
  const int64_t subtotal = UnitAmount(checkout.price) * checkout.quantity;
  const bool discounted = !checkout.promotion_code.empty();
  // Stripe rounds a percentage discount to the nearest cent.
  const int64_t discount = discounted ? (subtotal * kPercentOff + 50) / 100 : 0;
  const int64_t total = subtotal - discount;
  const nlohmann::json period = {{"start", item["current_period_start"]},
                                 {"end", item["current_period_end"]}};
  nlohmann::json discount_amounts = nlohmann::json::array();
  if (discounted) {
    discount_amounts.push_back(
        {{"amount", discount}, {"discount", "di_fake_" + Lowercase(checkout.promotion_code)}});
  }
  const nlohmann::json line = {
      {"id", line_id},
      {"object", "line_item"},
      {"amount", subtotal},
      {"currency", "usd"},
      {"description", std::to_string(checkout.quantity) + " × " + checkout.price},
      {"discount_amounts", discount_amounts},
      {"discountable", true},
      {"discounts", nlohmann::json::array()},
      {"invoice", id},
      {"livemode", false},
      {"metadata", nlohmann::json::object()},
      {"parent",
       {{"type", "subscription_item_details"},
        {"invoice_item_details", nullptr},
        {"subscription_item_details",
         {{"invoice_item", nullptr},
          {"proration", false},
          {"proration_details", {{"credited_items", nullptr}}},
          {"subscription", subscription_id},
          {"subscription_item", item["id"]}}}}},
      {"period", period},
      {"pricing",
       {{"type", "price_details"},
        {"price_details", {{"price", checkout.price}, {"product", nullptr}}},
        {"unit_amount_decimal", std::to_string(UnitAmount(checkout.price))}}},
      {"quantity", checkout.quantity},
      {"subtotal", subtotal},
      {"taxes", nlohmann::json::array()}};
  const std::string page = public_url + "/invoices/" + id;
  return {{"id", id},
          {"object", "invoice"},
          {"number", number},
          {"status", "paid"},
          {"billing_reason", "subscription_create"},
          {"collection_method", "charge_automatically"},
          {"customer", subscription["customer"]},
          {"currency", "usd"},
          {"subtotal", subtotal},
          {"subtotal_excluding_tax", subtotal},
          {"total", total},
          {"total_excluding_tax", total},
          {"total_discount_amounts", discount_amounts},
          {"amount_due", total},
          {"amount_paid", total},
          {"amount_remaining", 0},
          {"attempt_count", 1},
          {"attempted", true},
          {"created", now},
          {"period_start", now},
          {"period_end", now},
          {"effective_at", now},
          {"status_transitions",
           {{"finalized_at", now},
            {"paid_at", now},
            {"marked_uncollectible_at", nullptr},
            {"voided_at", nullptr}}},
          {"hosted_invoice_url", page},
          {"invoice_pdf", page + "/pdf"},
          {"lines",
           {{"object", "list"},
            {"data", nlohmann::json::array({line})},
            {"has_more", false},
            {"url", "/v1/invoices/" + id + "/lines"}}},
          // As Stripe does: the invoice's own metadata stays empty; the subscription's metadata
          // (tenant_id, plan) travels under parent.subscription_details.
          {"metadata", nlohmann::json::object()},
          {"parent",
           {{"type", "subscription_details"},
            {"quote_details", nullptr},
            {"subscription_details",
             {{"metadata", subscription["metadata"]}, {"subscription", subscription_id}}}}},
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

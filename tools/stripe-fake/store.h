// The in-memory Stripe account behind stripe-fake: objects, id counters and known catalogue.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace paybell::stripe_fake {

struct PromotionCode {
  std::string code;  // what a customer types, e.g. WELCOME10
  std::string id;    // what the API uses, e.g. promo_fake_welcome10
};

// A checkout session plus what Stripe keeps about it but does not show on the object.
struct CheckoutRecord {
  nlohmann::json session;
  std::string price;
  int64_t quantity = 1;
  nlohmann::json subscription_metadata = nlohmann::json::object();
  std::string promotion_code;  // the customer-facing code, for the hosted page
};

// Plain data; State holds the one mutex that guards it.
struct ObjectStore {
  std::vector<std::string> prices;
  std::vector<PromotionCode> promotion_codes;
  std::string public_url;
  int64_t started_at = 0;

  std::map<std::string, nlohmann::json> customers;
  std::map<std::string, nlohmann::json> subscriptions;
  std::map<std::string, nlohmann::json> portal_sessions;
  std::map<std::string, CheckoutRecord> checkout_sessions;
  std::map<std::string, nlohmann::json> invoices;
  std::vector<nlohmann::json> events;
  std::map<std::string, int64_t> counters;

  // "cs_test_fake_" → "cs_test_fake_1", "cs_test_fake_2", …: one sequence per prefix so ids
  // read predictably in tests.
  std::string NextId(const std::string& prefix);
  bool HasPrice(const std::string& id) const;
  const PromotionCode* FindPromotionCodeById(const std::string& id) const;
};

// The API version events claim; Paybell reads the current shapes (periods on items).
inline constexpr char kApiVersion[] = "2025-03-31.basil";

// {"error": {type, message, param?, code?}}; empty param/code are left out as Stripe does.
nlohmann::json ErrorBody(const std::string& type, const std::string& message,
                         const std::string& param = "", const std::string& code = "");

nlohmann::json PromotionCodeObject(const PromotionCode& promo, int64_t created);
nlohmann::json CustomerObject(const std::string& id, const nlohmann::json& email, int64_t now);
nlohmann::json SubscriptionObject(const std::string& id, const std::string& item_id,
                                  const std::string& customer, const CheckoutRecord& checkout,
                                  int64_t now);
// What one unit of a price costs, in cents. Prices are only ids here, so the fake names fixed
// amounts: *_starter 1900, *_pro 4900, *_firm 9900, any other price 1000.
int64_t UnitAmount(const std::string& price);
// The subscription's first invoice, already paid: the checkout's price and quantity, less the
// promotion code's percentage when one was applied. Shaped like Stripe's (current API):
// the subscription and its metadata under parent.subscription_details, the period on the line,
// links to the pages stripe-fake serves under /invoices/<id>.
nlohmann::json FirstInvoiceObject(const std::string& id, const std::string& line_id,
                                  const std::string& number, const nlohmann::json& subscription,
                                  const CheckoutRecord& checkout, const std::string& public_url,
                                  int64_t now);
nlohmann::json EventObject(const std::string& id, const std::string& type,
                           const nlohmann::json& object, int64_t now);

// Seconds since the epoch, the unit of every Stripe timestamp.
int64_t UnixNow();

}  // namespace paybell::stripe_fake

// Building Stripe event payloads for tests, in the current API shape and the older one
// (../shared/fixtures/stripe/README.md), and signing them as Stripe does.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace paybell::testing {

enum class ApiShape { kCurrent, kOlder };

struct SubscriptionSpec {
  std::string id = "sub_1";
  std::string customer = "cus_1";
  std::string status = "active";
  std::string tenant_id = "acme";  // metadata.tenant_id; "" for none
  std::string plan;                // metadata.plan; "" for none
  std::string price = "price_pro_1";
  int64_t period_start = 1'800'000'000;
  int64_t period_end = 1'802'592'000;
  bool cancel_at_period_end = false;
  int64_t trial_end = 0;    // 0: none
  int64_t canceled_at = 0;  // 0: none
};

nlohmann::json SubscriptionObject(const SubscriptionSpec& spec, ApiShape shape);
nlohmann::json InvoiceObject(const std::string& subscription, const std::string& customer,
                             const std::string& tenant_id, ApiShape shape);
nlohmann::json CheckoutSessionObject(const std::string& session_id, const std::string& tenant_id,
                                     const std::string& customer, const std::string& subscription);

// {"id", "object":"event", "type", "created", "livemode":false, "data":{"object"}}
std::string EventPayload(const std::string& id, const std::string& type, int64_t created,
                         const nlohmann::json& object);

// "t=<timestamp>,v1=<HMAC-SHA256(secret, t.payload)>"
std::string SignatureHeader(const std::string& secret, int64_t timestamp,
                            const std::string& payload);

}  // namespace paybell::testing

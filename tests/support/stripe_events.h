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

// An invoice as the fixture (../shared/fixtures/stripe/invoice.json) shapes it: the billed
// period on its line, the invoice's own period_start/period_end one period earlier.
struct InvoiceSpec {
  std::string id = "in_1";
  std::string subscription = "sub_1";
  std::string customer = "cus_1";
  std::string tenant_id;  // subscription metadata.tenant_id; "" for none
  std::string status = "open";
  std::string number = "ACME-0001";
  int64_t amount_due = 4900;
  int64_t amount_paid = 0;
  std::string currency = "usd";
  int64_t created = 1'800'000'000;
  int64_t period_start = 1'800'000'000;  // of the line
  int64_t period_end = 1'802'592'000;
  std::string hosted_invoice_url = "https://invoice.stripe.com/i/acct_1/test_in_1";
  std::string invoice_pdf = "https://pay.stripe.com/invoice/acct_1/test_in_1/pdf";
};

nlohmann::json SubscriptionObject(const SubscriptionSpec& spec, ApiShape shape);
nlohmann::json InvoiceObject(const InvoiceSpec& spec, ApiShape shape);
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

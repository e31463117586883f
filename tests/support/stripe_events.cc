#include "tests/support/stripe_events.h"

#include "server/webhooks/stripe_signature.h"

namespace paybell::testing {

using nlohmann::json;

json SubscriptionObject(const SubscriptionSpec& s, ApiShape shape) {
  json metadata = json::object();
  if (!s.tenant_id.empty()) metadata["tenant_id"] = s.tenant_id;
  if (!s.plan.empty()) metadata["plan"] = s.plan;
  json item = {{"id", "si_1"},
               {"object", "subscription_item"},
               {"price", {{"id", s.price}, {"object", "price"}}},
               {"quantity", 1}};
  json sub = {{"id", s.id},
              {"object", "subscription"},
              {"customer", s.customer},
              {"status", s.status},
              {"metadata", metadata},
              {"cancel_at_period_end", s.cancel_at_period_end},
              {"cancel_at", nullptr},
              {"canceled_at", s.canceled_at ? json(s.canceled_at) : json(nullptr)},
              {"trial_end", s.trial_end ? json(s.trial_end) : json(nullptr)},
              {"livemode", false}};
  if (shape == ApiShape::kCurrent) {
    item["current_period_start"] = s.period_start;
    item["current_period_end"] = s.period_end;
  } else {
    // Older API versions: periods on the subscription, the legacy "plan" beside the price.
    sub["current_period_start"] = s.period_start;
    sub["current_period_end"] = s.period_end;
    item["plan"] = {{"id", s.price}, {"object", "plan"}};
    sub["plan"] = {{"id", s.price}, {"object", "plan"}};
  }
  sub["items"] = {{"object", "list"}, {"data", json::array({item})}};
  return sub;
}

json InvoiceObject(const InvoiceSpec& spec, ApiShape shape) {
  json metadata = json::object();
  if (!spec.tenant_id.empty()) metadata["tenant_id"] = spec.tenant_id;
  constexpr int64_t kMonth = 2'592'000;
  json line = {{"id", "il_" + spec.id},
               {"object", "line_item"},
               {"amount", spec.amount_due},
               {"currency", spec.currency},
               {"invoice", spec.id},
               {"period", {{"start", spec.period_start}, {"end", spec.period_end}}},
               {"quantity", 1}};
  json invoice = {
      {"id", spec.id},
      {"object", "invoice"},
      {"customer", spec.customer},
      {"status", spec.status},
      {"number", spec.number.empty() ? json(nullptr) : json(spec.number)},
      {"amount_due", spec.amount_due},
      {"amount_paid", spec.amount_paid},
      {"amount_remaining", spec.amount_due - spec.amount_paid},
      {"currency", spec.currency},
      {"created", spec.created},
      {"period_start", spec.period_start - kMonth},
      {"period_end", spec.period_start},
      {"hosted_invoice_url",
       spec.hosted_invoice_url.empty() ? json(nullptr) : json(spec.hosted_invoice_url)},
      {"invoice_pdf", spec.invoice_pdf.empty() ? json(nullptr) : json(spec.invoice_pdf)},
      {"lines",
       {{"object", "list"},
        {"data", json::array({line})},
        {"has_more", false},
        {"url", "/v1/invoices/" + spec.id + "/lines"}}},
      {"livemode", false},
      {"metadata", json::object()}};
  if (shape == ApiShape::kCurrent) {
    invoice["parent"] = {
        {"type", "subscription_details"},
        {"subscription_details", {{"subscription", spec.subscription}, {"metadata", metadata}}}};
  } else {
    invoice["subscription"] = spec.subscription;
    invoice["subscription_details"] = {{"metadata", metadata}};
  }
  return invoice;
}

json InvoiceObject(const std::string& subscription, const std::string& customer,
                   const std::string& tenant_id, ApiShape shape) {
  InvoiceSpec spec;
  spec.subscription = subscription;
  spec.customer = customer;
  spec.tenant_id = tenant_id;
  return InvoiceObject(spec, shape);
}

json CheckoutSessionObject(const std::string& session_id, const std::string& tenant_id,
                           const std::string& customer, const std::string& subscription) {
  return {
      {"id", session_id},     {"object", "checkout.session"}, {"mode", "subscription"},
      {"status", "complete"}, {"payment_status", "paid"},     {"client_reference_id", tenant_id},
      {"customer", customer}, {"subscription", subscription}, {"metadata", json::object()}};
}

std::string EventPayload(const std::string& id, const std::string& type, int64_t created,
                         const json& object) {
  return json{{"id", id},
              {"object", "event"},
              {"api_version", "2025-03-31.basil"},
              {"type", type},
              {"created", created},
              {"livemode", false},
              {"pending_webhooks", 1},
              {"data", {{"object", object}}}}
      .dump();
}

std::string SignatureHeader(const std::string& secret, int64_t timestamp,
                            const std::string& payload) {
  return "t=" + std::to_string(timestamp) +
         ",v1=" + webhooks::ComputeStripeSignature(secret, timestamp, payload);
}

}  // namespace paybell::testing

// paybell-bench-events: writes the signed Stripe events the webhook-ingest benchmark posts.
//
// Every event is a unique customer.subscription.updated for one of --tenants tenants
// (metadata.tenant_id = <prefix>0000…), in the shape Stripe sends today (the subscription object
// of ../shared/fixtures/stripe/subscription.json, periods on the item), signed the way Stripe
// signs (HMAC-SHA256 keyed with the whole whsec_… string over "<t>.<payload>", header
// "t=<t>,v1=<hex>") with the current time. Events go round-robin over the tenants, one round at
// a time, and a tenant's `created` grows by one second per round, so each tenant's last event is
// its newest one and must be the one its subscription ends up holding.
//
// Output: one file per wrk thread, <out>.<slice>, one event per line:
// "<event id>\t<tenant>\t<Stripe-Signature>\t<payload>".
// Tenant t goes to slice t % slices, so a tenant's events travel in order on one wrk thread.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <CLI/CLI.hpp>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace {

using nlohmann::json;

// The subscription object of Stripe's current API (fixture shape), with realistic values; the
// generator fills in ids, tenant, price, status and periods per event.
constexpr const char* kSubscriptionTemplate = R"json({
  "id": "", "object": "subscription", "application": null, "application_fee_percent": null,
  "automatic_tax": {"disabled_reason": null, "enabled": false, "liability": null},
  "billing_cycle_anchor": 0,
  "billing_cycle_anchor_config": null,
  "billing_mode": {"flexible": null, "type": "classic"},
  "billing_thresholds": null,
  "cancel_at": null, "cancel_at_period_end": false, "canceled_at": null,
  "cancellation_details": {"comment": null, "feedback": null, "reason": null},
  "collection_method": "charge_automatically",
  "created": 0, "currency": "usd", "customer": "", "customer_account": null,
  "days_until_due": null, "default_payment_method": "pm_1Pgc6qB7WZ01zgkWbench000",
  "default_source": null, "default_tax_rates": [], "description": null, "discounts": [],
  "ended_at": null,
  "invoice_settings": {"account_tax_ids": null, "issuer": {"type": "self"}},
  "items": {
    "object": "list",
    "data": [{
      "id": "", "object": "subscription_item", "billing_thresholds": null, "created": 0,
      "current_period_end": 0, "current_period_start": 0, "discounts": [], "metadata": {},
      "plan": {"id": "", "object": "plan", "active": true, "amount": 4900,
               "amount_decimal": "4900", "billing_scheme": "per_unit", "created": 1721948530,
               "currency": "usd", "interval": "month", "interval_count": 1, "livemode": false,
               "metadata": {}, "meter": null, "nickname": null,
               "product": "prod_QXg1hqf4jFNsqG", "tiers_mode": null, "transform_usage": null,
               "trial_period_days": null, "usage_type": "licensed"},
      "price": {"id": "", "object": "price", "active": true, "billing_scheme": "per_unit",
                "created": 1721948530, "currency": "usd", "custom_unit_amount": null,
                "livemode": false, "lookup_key": null, "metadata": {}, "nickname": null,
                "product": "prod_QXg1hqf4jFNsqG",
                "recurring": {"interval": "month", "interval_count": 1, "meter": null,
                              "trial_period_days": null, "usage_type": "licensed"},
                "tax_behavior": "unspecified", "tiers_mode": null, "transform_quantity": null,
                "type": "recurring", "unit_amount": 4900, "unit_amount_decimal": "4900"},
      "quantity": 1, "subscription": "", "tax_rates": []
    }],
    "has_more": false, "total_count": 1, "url": ""
  },
  "latest_invoice": "", "livemode": false, "metadata": {},
  "next_pending_invoice_item_invoice": null, "on_behalf_of": null, "pause_collection": null,
  "payment_settings": {"payment_method_options": null, "payment_method_types": null,
                       "save_default_payment_method": "off"},
  "pending_invoice_item_interval": null, "pending_setup_intent": null, "pending_update": null,
  "schedule": null, "start_date": 0, "status": "active", "test_clock": null,
  "transfer_data": null, "trial_end": null,
  "trial_settings": {"end_behavior": {"missing_payment_method": "create_invoice"}},
  "trial_start": null
})json";

struct Plan {
  std::string word;
  std::string price;
  int amount;
};

std::string Hex(const unsigned char* data, unsigned int size) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (unsigned int i = 0; i < size; ++i) {
    out.push_back(kDigits[data[i] >> 4]);
    out.push_back(kDigits[data[i] & 0xf]);
  }
  return out;
}

std::string StripeSignatureHeader(const std::string& secret, int64_t timestamp,
                                  const std::string& payload) {
  const std::string signed_payload = std::to_string(timestamp) + "." + payload;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_size = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(signed_payload.data()), signed_payload.size(), mac,
       &mac_size);
  return "t=" + std::to_string(timestamp) + ",v1=" + Hex(mac, mac_size);
}

std::string Padded(int value, int width) {
  std::string digits = std::to_string(value);
  if (static_cast<int>(digits.size()) < width) digits.insert(0, width - digits.size(), '0');
  return digits;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Writes unique, signed customer.subscription.updated events for the webhook "
               "ingest benchmark (tools/bench/run)."};
  std::string out;
  int64_t events = 0;
  int tenants = 1000;
  int slices = 2;
  std::string tenant_prefix = "bench-";
  std::string secret;
  std::string run_id = "r0";
  std::vector<std::string> prices;
  int64_t now = 0;
  app.add_option("--out", out, "output prefix: writes <out>.0 … <out>.<slices-1>")->required();
  app.add_option("--events", events, "number of events")->required()->check(CLI::Range(1, 50'000'000));
  app.add_option("--tenants", tenants, "tenants, <prefix>0000 …")->check(CLI::Range(1, 10000));
  app.add_option("--tenant-prefix", tenant_prefix, "tenant id prefix");
  app.add_option("--slices", slices, "output files (one per wrk thread)")->check(CLI::Range(1, 256));
  app.add_option("--secret", secret, "the server's STRIPE_WEBHOOK_SECRET (whsec_…)")->required();
  app.add_option("--prices", prices,
                 "the server's STRIPE_PRICE_STARTER, _PRO and _FIRM, in that order")
      ->required()
      ->expected(3);
  app.add_option("--run-id", run_id, "makes event ids unique across runs ([a-zA-Z0-9])");
  app.add_option("--now", now, "signature time (Unix seconds; default: now)");
  CLI11_PARSE(app, argc, argv);
  for (char c : run_id) {
    if (!std::isalnum(static_cast<unsigned char>(c))) {
      std::cerr << "--run-id: letters and digits only\n";
      return 2;
    }
  }
  if (now == 0) now = static_cast<int64_t>(std::time(nullptr));

  const std::vector<Plan> plans = {
      {"starter", prices[0], 1900}, {"pro", prices[1], 4900}, {"firm", prices[2], 9900}};
  const int64_t rounds = (events + tenants - 1) / tenants;
  // `created` stays in the past (the server refuses times ahead of its clock) and grows by one
  // second per round, so later rounds are newer for every tenant.
  const int64_t first_created = now - rounds - 1;
  const int64_t period_start = now - 86400 * 10;

  std::vector<std::unique_ptr<std::ofstream>> files;
  for (int s = 0; s < slices; ++s) {
    const std::string path = out + "." + std::to_string(s);
    files.push_back(std::make_unique<std::ofstream>(path, std::ios::binary | std::ios::trunc));
    if (!*files.back()) {
      std::cerr << "cannot write " << path << "\n";
      return 1;
    }
  }

  json subscription = json::parse(kSubscriptionTemplate);
  json envelope = {{"id", ""},
                   {"object", "event"},
                   {"api_version", "2025-06-30.basil"},
                   {"created", 0},
                   {"data", {{"object", nullptr}, {"previous_attributes", nullptr}}},
                   {"livemode", false},
                   {"pending_webhooks", 1},
                   {"request", {{"id", nullptr}, {"idempotency_key", nullptr}}},
                   {"type", "customer.subscription.updated"}};
  int64_t bytes = 0;
  for (int64_t i = 0; i < events; ++i) {
    const int tenant_index = static_cast<int>(i % tenants);
    const int64_t round = i / tenants;
    const std::string tenant_digits = Padded(tenant_index, 4);
    const std::string tenant = tenant_prefix + tenant_digits;
    const Plan& plan = plans[static_cast<size_t>((tenant_index + round) % 3)];
    const Plan& previous = plans[static_cast<size_t>((tenant_index + round + 2) % 3)];
    const std::string sub_id = "sub_bench" + run_id + "t" + tenant_digits;

    json& s = subscription;
    s["id"] = sub_id;
    s["customer"] = "cus_bench" + run_id + "t" + tenant_digits;
    s["created"] = period_start - 86400 * 30;
    s["start_date"] = period_start - 86400 * 30;
    s["billing_cycle_anchor"] = period_start;
    s["latest_invoice"] = "in_bench" + run_id + "t" + tenant_digits + "r" + std::to_string(round);
    s["metadata"] = {{"tenant_id", tenant}, {"plan", plan.word}};
    s["cancel_at_period_end"] = (round % 4) == 3;
    json& item = s["items"]["data"][0];
    item["id"] = "si_bench" + run_id + "t" + tenant_digits;
    item["created"] = period_start - 86400 * 30;
    item["current_period_start"] = period_start;
    item["current_period_end"] = period_start + 86400 * 30;
    item["subscription"] = sub_id;
    item["plan"]["id"] = plan.price;
    item["plan"]["amount"] = plan.amount;
    item["plan"]["amount_decimal"] = std::to_string(plan.amount);
    item["price"]["id"] = plan.price;
    item["price"]["unit_amount"] = plan.amount;
    item["price"]["unit_amount_decimal"] = std::to_string(plan.amount);
    s["items"]["url"] = "/v1/subscription_items?subscription=" + sub_id;

    envelope["id"] = "evt_bench" + run_id + "t" + tenant_digits + "r" + std::to_string(round);
    envelope["created"] = first_created + round;
    envelope["data"]["object"] = s;
    envelope["data"]["previous_attributes"] = {
        {"items", {{"data", json::array({{{"price", {{"id", previous.price}}}}})}}}};
    envelope["request"]["id"] = "req_bench" + std::to_string(i);

    const std::string payload = envelope.dump();
    std::ofstream& file = *files[static_cast<size_t>(tenant_index % slices)];
    const std::string line = envelope["id"].get<std::string>() + "\t" + tenant + "\t" +
                             StripeSignatureHeader(secret, now, payload) + "\t" + payload + "\n";
    file << line;
    bytes += static_cast<int64_t>(line.size());
  }
  for (auto& file : files) {
    file->flush();
    if (!*file) {
      std::cerr << "writing " << out << ".*: failed\n";
      return 1;
    }
  }
  std::cout << json{{"events", events}, {"tenants", tenants}, {"slices", slices},
                    {"rounds", rounds}, {"bytes", bytes}, {"signed_at", now}}
                   .dump()
            << "\n";
  return 0;
}

#include "tools/stripe-fake/api_handlers.h"

#include <algorithm>
#include <cctype>

namespace paybell::stripe_fake {
namespace {

constexpr int64_t kCheckoutLifetime = 24 * 60 * 60;

const std::string* Find(const Form& params, const std::string& key) {
  const auto it = params.find(key);
  // Stripe treats an empty value as "unset", so a blank field is the same as a missing one.
  if (it == params.end() || it->second.empty()) return nullptr;
  return &it->second;
}

nlohmann::json OrNull(const std::string* value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

ApiResult BadRequest(const std::string& message, const std::string& param,
                     const std::string& code = "") {
  return {400, ErrorBody("invalid_request_error", message, param, code)};
}

ApiResult Missing(const std::string& param) {
  return BadRequest("Missing required param: " + param + ".", param, "parameter_missing");
}

ApiResult NoSuch(const std::string& what, const std::string& id, const std::string& param,
                 int status) {
  return {status, ErrorBody("invalid_request_error", "No such " + what + ": '" + id + "'", param,
                            "resource_missing")};
}

bool EqualsIgnoringCase(const std::string& a, const std::string& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// "/v1/customers/cus_1" with prefix "/v1/customers/" → "cus_1"; empty when it does not fit.
std::string IdAfter(const std::string& path, const std::string& prefix) {
  if (path.compare(0, prefix.size(), prefix) != 0) return "";
  const std::string id = path.substr(prefix.size());
  return id.find('/') == std::string::npos ? id : "";
}

ApiResult CreateCheckoutSession(ObjectStore& store, const Form& params, int64_t now) {
  const std::string* mode = Find(params, "mode");
  if (!mode) return Missing("mode");
  if (*mode != "subscription") {
    return BadRequest("Invalid mode: stripe-fake supports only mode=subscription", "mode");
  }
  const std::string price_param = "line_items[0][price]";
  const std::string* price = Find(params, price_param);
  if (!price) return Missing(price_param);
  if (!store.HasPrice(*price)) return NoSuch("price", *price, price_param, 400);

  CheckoutRecord record;
  record.price = *price;
  if (const std::string* quantity = Find(params, "line_items[0][quantity]")) {
    const bool digits =
        quantity->size() <= 9 && std::all_of(quantity->begin(), quantity->end(),
                                             [](char c) { return c >= '0' && c <= '9'; });
    record.quantity = digits ? std::stoll(*quantity) : 0;
    if (record.quantity < 1) {
      return BadRequest("Invalid positive integer", "line_items[0][quantity]",
                        "parameter_invalid_integer");
    }
  }
  const std::string* customer = Find(params, "customer");
  if (customer && store.customers.count(*customer) == 0) {
    return NoSuch("customer", *customer, "customer", 400);
  }
  const std::string promo_param = "discounts[0][promotion_code]";
  const std::string* promo_id = Find(params, promo_param);
  const PromotionCode* promo = promo_id ? store.FindPromotionCodeById(*promo_id) : nullptr;
  if (promo_id && !promo) return NoSuch("promotion code", *promo_id, promo_param, 400);
  const std::string* allow_promos = Find(params, "allow_promotion_codes");
  if (allow_promos && *allow_promos != "true" && *allow_promos != "false") {
    return BadRequest("Invalid boolean: " + *allow_promos, "allow_promotion_codes");
  }
  // Real Stripe refuses both at once; mirroring that catches the mistake before production.
  if (promo && allow_promos && *allow_promos == "true") {
    return BadRequest(
        "You may only specify one of these parameters: allow_promotion_codes, discounts.",
        "allow_promotion_codes", "parameters_exclusive");
  }

  const std::string id = store.NextId("cs_test_fake_");
  nlohmann::json discounts = nullptr;
  if (promo) {
    discounts = nlohmann::json::array({{{"coupon", nullptr}, {"promotion_code", promo->id}}});
    record.promotion_code = promo->code;
  }
  for (const auto& [key, value] : BracketedParams(params, "subscription_data[metadata]")) {
    record.subscription_metadata[key] = value;
  }
  nlohmann::json metadata = nlohmann::json::object();
  for (const auto& [key, value] : BracketedParams(params, "metadata")) metadata[key] = value;

  record.session = {{"id", id},
                    {"object", "checkout.session"},
                    {"mode", *mode},
                    {"status", "open"},
                    {"payment_status", "unpaid"},
                    {"url", store.public_url + "/checkout/" + id},
                    {"client_reference_id", OrNull(Find(params, "client_reference_id"))},
                    {"customer", OrNull(customer)},
                    {"customer_email", OrNull(Find(params, "customer_email"))},
                    {"subscription", nullptr},
                    {"metadata", metadata},
                    {"success_url", OrNull(Find(params, "success_url"))},
                    {"cancel_url", OrNull(Find(params, "cancel_url"))},
                    {"allow_promotion_codes", allow_promos ? nlohmann::json(*allow_promos == "true")
                                                           : nlohmann::json(nullptr)},
                    {"discounts", discounts},
                    {"created", now},
                    {"expires_at", now + kCheckoutLifetime},
                    {"currency", "usd"},
                    {"amount_subtotal", nullptr},
                    {"amount_total", nullptr},
                    {"invoice", nullptr},
                    {"payment_intent", nullptr},
                    {"livemode", false},
                    {"ui_mode", "hosted"}};
  nlohmann::json body = record.session;
  store.checkout_sessions.emplace(id, std::move(record));
  return {200, body};
}

ApiResult CreatePortalSession(ObjectStore& store, const Form& params, int64_t now) {
  const std::string* customer = Find(params, "customer");
  if (!customer) return Missing("customer");
  if (store.customers.count(*customer) == 0) return NoSuch("customer", *customer, "customer", 400);
  const std::string id = store.NextId("bps_fake_");
  nlohmann::json session = {{"id", id},
                            {"object", "billing_portal.session"},
                            {"customer", *customer},
                            {"return_url", OrNull(Find(params, "return_url"))},
                            {"url", store.public_url + "/portal/" + id},
                            {"configuration", "bpc_fake_default"},
                            {"created", now},
                            {"flow", nullptr},
                            {"livemode", false},
                            {"locale", nullptr},
                            {"on_behalf_of", nullptr}};
  store.portal_sessions[id] = session;
  return {200, session};
}

ApiResult ListPromotionCodes(const ObjectStore& store, const Form& params) {
  const std::string* code = Find(params, "code");
  const std::string* active = Find(params, "active");
  nlohmann::json data = nlohmann::json::array();
  // Every configured code is active, so active=false lists nothing.
  if (!active || *active != "false") {
    for (const PromotionCode& promo : store.promotion_codes) {
      // Stripe matches the code filter case-insensitively.
      if (code && !EqualsIgnoringCase(*code, promo.code)) continue;
      data.push_back(PromotionCodeObject(promo, store.started_at));
    }
  }
  return {
      200,
      {{"object", "list"}, {"data", data}, {"has_more", false}, {"url", "/v1/promotion_codes"}}};
}

// Stripe: only an open session can be expired; afterwards it can no longer be paid.
ApiResult ExpireCheckoutSession(ObjectStore& store, const std::string& id) {
  const auto it = store.checkout_sessions.find(id);
  if (it == store.checkout_sessions.end()) return NoSuch("checkout.session", id, "id", 404);
  nlohmann::json& session = it->second.session;
  if (session["status"] != "open") {
    return BadRequest("Only Checkout Sessions with a status of `open` can be expired.", "");
  }
  session["status"] = "expired";
  return {200, session};
}

ApiResult Retrieve(const std::map<std::string, nlohmann::json>& objects, const std::string& what,
                   const std::string& id) {
  const auto it = objects.find(id);
  if (it == objects.end()) return NoSuch(what, id, "id", 404);
  return {200, it->second};
}

}  // namespace

ApiResult DispatchApi(ObjectStore& store, const std::string& method, const std::string& path,
                      const Form& params, int64_t now) {
  if (method == "POST" && path == "/v1/checkout/sessions") {
    return CreateCheckoutSession(store, params, now);
  }
  if (method == "POST" && path == "/v1/billing_portal/sessions") {
    return CreatePortalSession(store, params, now);
  }
  if (method == "POST" && path.size() > 7 && path.compare(path.size() - 7, 7, "/expire") == 0) {
    if (std::string id = IdAfter(path.substr(0, path.size() - 7), "/v1/checkout/sessions/");
        !id.empty()) {
      return ExpireCheckoutSession(store, id);
    }
  }
  if (method == "GET" && path == "/v1/promotion_codes") return ListPromotionCodes(store, params);
  if (method == "GET") {
    if (std::string id = IdAfter(path, "/v1/customers/"); !id.empty()) {
      return Retrieve(store.customers, "customer", id);
    }
    if (std::string id = IdAfter(path, "/v1/subscriptions/"); !id.empty()) {
      return Retrieve(store.subscriptions, "subscription", id);
    }
    if (std::string id = IdAfter(path, "/v1/checkout/sessions/"); !id.empty()) {
      const auto it = store.checkout_sessions.find(id);
      if (it == store.checkout_sessions.end()) return NoSuch("checkout.session", id, "id", 404);
      return {200, it->second.session};
    }
    if (std::string id = IdAfter(path, "/v1/promotion_codes/"); !id.empty()) {
      const PromotionCode* promo = store.FindPromotionCodeById(id);
      if (!promo) return NoSuch("promotion code", id, "id", 404);
      return {200, PromotionCodeObject(*promo, store.started_at)};
    }
  }
  return {404, ErrorBody("invalid_request_error",
                         "Unrecognized request URL (" + method + ": " + path + ").")};
}

}  // namespace paybell::stripe_fake

#include "tools/stripe-fake/api_handlers.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <set>
#include <vector>

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

// The counter at the end of a fake id ("sub_fake_x1y2_12" → 12): creation order.
int64_t Sequence(const std::string& id) {
  const size_t underscore = id.rfind('_');
  if (underscore == std::string::npos || underscore + 1 == id.size()) return 0;
  int64_t n = 0;
  for (size_t i = underscore + 1; i < id.size(); ++i) {
    if (id[i] < '0' || id[i] > '9') return 0;
    n = n * 10 + (id[i] - '0');
  }
  return n;
}

std::optional<int64_t> IntegerParam(const Form& params, const std::string& key, bool& bad) {
  const std::string* value = Find(params, key);
  if (!value) return std::nullopt;
  if (value->empty() || value->size() > 18 ||
      !std::all_of(value->begin(), value->end(), [](char c) { return c >= '0' && c <= '9'; })) {
    bad = true;
    return std::nullopt;
  }
  return std::stoll(*value);
}

// Stripe's list envelope over `objects` (newest first already): `limit` (1-100, default 10),
// `starting_after` (the page after that object), `has_more`.
ApiResult ListPage(const std::vector<const nlohmann::json*>& objects, const Form& params,
                   const std::string& url, const std::string& what) {
  bool bad = false;
  const int64_t limit = IntegerParam(params, "limit", bad).value_or(10);
  if (bad || limit < 1 || limit > 100) {
    return BadRequest("Invalid limit: must be an integer between 1 and 100", "limit");
  }
  size_t start = 0;
  if (const std::string* after = Find(params, "starting_after")) {
    const auto it = std::find_if(objects.begin(), objects.end(),
                                 [&](const nlohmann::json* o) { return (*o)["id"] == *after; });
    if (it == objects.end()) return NoSuch(what, *after, "starting_after", 400);
    start = static_cast<size_t>(it - objects.begin()) + 1;
  }
  nlohmann::json data = nlohmann::json::array();
  size_t i = start;
  for (; i < objects.size() && static_cast<int64_t>(data.size()) < limit; ++i) {
    data.push_back(*objects[i]);
  }
  return {200,
          {{"object", "list"}, {"data", data}, {"has_more", i < objects.size()}, {"url", url}}};
}

// GET /v1/events: newest first; created[gte|gt|lte|lt], type, types[N] (indexed, as Stripe's
// libraries send arrays), and paging.
ApiResult ListEvents(const ObjectStore& store, const Form& params) {
  bool bad = false;
  const auto gte = IntegerParam(params, "created[gte]", bad);
  const auto gt = IntegerParam(params, "created[gt]", bad);
  const auto lte = IntegerParam(params, "created[lte]", bad);
  const auto lt = IntegerParam(params, "created[lt]", bad);
  if (bad) return BadRequest("Invalid integer for created", "created");
  std::set<std::string> types;
  for (const auto& [index, type] : BracketedParams(params, "types")) types.insert(type);
  if (types.size() > 20) return BadRequest("types: at most 20 event types", "types");
  if (const std::string* type = Find(params, "type")) {
    if (!types.empty()) {
      return BadRequest("You may only specify one of these parameters: type, types.", "type",
                        "parameters_exclusive");
    }
    types.insert(*type);
  }
  std::vector<const nlohmann::json*> listed;
  // store.events holds events in the order they were created: walk it backwards.
  for (auto it = store.events.rbegin(); it != store.events.rend(); ++it) {
    const nlohmann::json& event = *it;
    const int64_t created = event["created"].get<int64_t>();
    if ((gte && created < *gte) || (gt && created <= *gt) || (lte && created > *lte) ||
        (lt && created >= *lt)) {
      continue;
    }
    if (!types.empty() && types.count(event["type"].get<std::string>()) == 0) continue;
    listed.push_back(&event);
  }
  // Newest first by `created`; events of one second in reverse order of creation.
  std::stable_sort(listed.begin(), listed.end(),
                   [](const nlohmann::json* a, const nlohmann::json* b) {
                     return (*a)["created"].get<int64_t>() > (*b)["created"].get<int64_t>();
                   });
  return ListPage(listed, params, "/v1/events", "event");
}

// GET /v1/subscriptions: newest first; status (default: all but canceled; `all`), customer,
// price, and paging.
ApiResult ListSubscriptions(const ObjectStore& store, const Form& params) {
  const std::string* status = Find(params, "status");
  const std::string* customer = Find(params, "customer");
  const std::string* price = Find(params, "price");
  std::vector<const nlohmann::json*> listed;
  for (const auto& [id, subscription] : store.subscriptions) {
    const std::string state = subscription["status"].get<std::string>();
    if (!status && (state == "canceled" || state == "incomplete_expired")) continue;
    if (status && *status != "all" && *status != state) continue;
    if (customer && subscription["customer"] != *customer) continue;
    if (price && subscription["items"]["data"][0]["price"]["id"] != *price) continue;
    listed.push_back(&subscription);
  }
  std::sort(listed.begin(), listed.end(), [](const nlohmann::json* a, const nlohmann::json* b) {
    const int64_t ca = (*a)["created"].get<int64_t>(), cb = (*b)["created"].get<int64_t>();
    if (ca != cb) return ca > cb;
    return Sequence((*a)["id"].get<std::string>()) > Sequence((*b)["id"].get<std::string>());
  });
  return ListPage(listed, params, "/v1/subscriptions", "subscription");
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
  if (method == "GET" && path == "/v1/events") return ListEvents(store, params);
  if (method == "GET" && path == "/v1/subscriptions") return ListSubscriptions(store, params);
  if (method == "GET") {
    if (std::string id = IdAfter(path, "/v1/customers/"); !id.empty()) {
      return Retrieve(store.customers, "customer", id);
    }
    if (std::string id = IdAfter(path, "/v1/subscriptions/"); !id.empty()) {
      return Retrieve(store.subscriptions, "subscription", id);
    }
    if (std::string id = IdAfter(path, "/v1/events/"); !id.empty()) {
      for (const nlohmann::json& event : store.events) {
        if (event["id"] == id) return {200, event};
      }
      return NoSuch("event", id, "id", 404);
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

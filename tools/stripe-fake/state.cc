#include "tools/stripe-fake/state.h"

#include <algorithm>
#include <utility>

#include "tools/stripe-fake/api_handlers.h"

namespace paybell::stripe_fake {
namespace {

nlohmann::json OrNull(const std::optional<std::string>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

std::string UnauthorizedMessage(const std::string& authorization) {
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.compare(0, kBearer.size(), kBearer) != 0) {
    return "You did not provide an API key. You need to provide your API key in the "
           "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
           "YOUR_SECRET_KEY').";
  }
  return "Invalid API Key provided: " + MaskApiKey(authorization.substr(kBearer.size()));
}

}  // namespace

State::State(ObjectStore store, std::string api_key)
    : api_key_(std::move(api_key)), store_(std::move(store)) {}

ApiResponse State::HandleApi(const ApiRequest& request, int64_t now) {
  std::lock_guard<std::mutex> lock(mutex_);
  const bool authorized = request.authorization == "Bearer " + api_key_;
  ApiResponse response = HandleApiLocked(request, authorized, now);
  nlohmann::json form = nlohmann::json::object();
  for (const auto& [key, value] : request.form) form[key] = value;
  requests_.push_back({{"method", request.method},
                       {"path", request.path},
                       {"query", request.query},
                       {"form", form},
                       {"idempotency_key", OrNull(request.idempotency_key)},
                       {"stripe_version", OrNull(request.stripe_version)},
                       {"authorized", authorized},
                       {"status", response.status},
                       {"replayed", response.replayed},
                       {"request_id", response.request_id}});
  return response;
}

ApiResponse State::HandleApiLocked(const ApiRequest& request, bool authorized, int64_t now) {
  ApiResponse response;
  response.request_id = store_.NextId("req_fake_");
  // Injected failures come first: they stand for an outage in front of Stripe, so the request
  // neither executes nor claims its idempotency key.
  const bool fault_applies =
      faults_left_ > 0 && request.path.compare(0, fault_path_.size(), fault_path_) == 0;
  if (fault_applies && fault_skip_ > 0) {
    --fault_skip_;
  } else if (fault_applies) {
    --faults_left_;
    response.status = fault_status_;
    response.body = ErrorBody("api_error", "stripe-fake: injected failure (HTTP " +
                                               std::to_string(fault_status_) + ")")
                        .dump();
    return response;
  }
  if (!authorized) {
    response.status = 401;
    response.body =
        ErrorBody("invalid_request_error", UnauthorizedMessage(request.authorization)).dump();
    return response;
  }
  const bool idempotent = request.method == "POST" && request.idempotency_key.has_value();
  if (idempotent) {
    const auto it = idempotent_.find(*request.idempotency_key);
    if (it != idempotent_.end()) {
      const StoredResponse& stored = it->second;
      if (stored.method != request.method || stored.path != request.path ||
          stored.params != request.params) {
        response.status = 400;
        response.body =
            ErrorBody("idempotency_error",
                      "Keys for idempotent requests can only be used with the same parameters "
                      "they were first used with. Try using a key other than '" +
                          *request.idempotency_key +
                          "' if you meant to execute a different request.")
                .dump();
        return response;
      }
      response = stored.response;
      response.replayed = true;
      return response;
    }
  }
  const ApiResult result = DispatchApi(store_, request.method, request.path, request.params, now);
  response.status = result.status;
  response.body = result.body.dump();
  // Stripe saves a result only once the endpoint has executed; requests refused by validation
  // (our 4xx answers) are not saved and may be retried under the same key.
  if (idempotent && result.status >= 200 && result.status < 300) {
    idempotent_[*request.idempotency_key] = {request.method, request.path, request.params,
                                             response};
  }
  return response;
}

void State::InjectFailures(int status, int count, int skip, std::string path_prefix) {
  std::lock_guard<std::mutex> lock(mutex_);
  fault_status_ = status;
  faults_left_ = count;
  fault_skip_ = skip;
  fault_path_ = std::move(path_prefix);
}

ChangeOutcome State::ChangeSubscription(const std::string& customer,
                                        const SubscriptionChange& change, int64_t now) {
  std::lock_guard<std::mutex> lock(mutex_);
  return stripe_fake::ChangeSubscription(store_, customer, change, now);
}

void State::SetDelay(std::string path_prefix, int ms) {
  std::lock_guard<std::mutex> lock(mutex_);
  delay_path_ = std::move(path_prefix);
  delay_ms_ = ms;
  max_in_flight_ = in_flight_;
  delayed_ = 0;
}

int State::DelayFor(const std::string& path) const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (delay_ms_ <= 0 || path.compare(0, delay_path_.size(), delay_path_) != 0) return 0;
  return delay_ms_;
}

void State::Enter() {
  std::lock_guard<std::mutex> lock(mutex_);
  ++delayed_;
  max_in_flight_ = std::max(max_in_flight_, ++in_flight_);
}

void State::Leave() {
  std::lock_guard<std::mutex> lock(mutex_);
  --in_flight_;
}

nlohmann::json State::Concurrency() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return {{"in_flight", in_flight_}, {"max_in_flight", max_in_flight_}, {"delayed", delayed_}};
}

void State::SetWebhookOutage(bool on) {
  std::lock_guard<std::mutex> lock(mutex_);
  webhook_outage_ = on;
}

bool State::WebhookOutage() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return webhook_outage_;
}

nlohmann::json State::RequestLog() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return requests_;
}

nlohmann::json State::DeliveryLog() const {
  std::lock_guard<std::mutex> lock(mutex_);
  nlohmann::json out = nlohmann::json::array();
  for (const DeliveryRecord& d : deliveries_) {
    out.push_back({{"event_id", d.event_id},
                   {"type", d.type},
                   {"status", d.status == 0 ? nlohmann::json(nullptr) : nlohmann::json(d.status)},
                   {"error", d.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(d.error)}});
  }
  return out;
}

nlohmann::json State::EventLog() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return store_.events;
}

void State::ResetLogs() {
  std::lock_guard<std::mutex> lock(mutex_);
  requests_.clear();
  deliveries_.clear();
  faults_left_ = 0;
  fault_skip_ = 0;
  fault_path_.clear();
}

std::optional<CheckoutRecord> State::FindCheckout(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = store_.checkout_sessions.find(id);
  if (it == store_.checkout_sessions.end()) return std::nullopt;
  return it->second;
}

std::optional<nlohmann::json> State::FindPortalSession(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = store_.portal_sessions.find(id);
  if (it == store_.portal_sessions.end()) return std::nullopt;
  return it->second;
}

std::optional<nlohmann::json> State::FindInvoice(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = store_.invoices.find(id);
  if (it == store_.invoices.end()) return std::nullopt;
  return it->second;
}

std::vector<nlohmann::json> State::SubscriptionsOf(const std::string& customer) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<nlohmann::json> out;
  for (const auto& [id, subscription] : store_.subscriptions) {
    if (subscription["customer"] == customer) out.push_back(subscription);
  }
  return out;
}

PayOutcome State::Pay(const std::string& session_id, int64_t now) {
  std::lock_guard<std::mutex> lock(mutex_);
  return CompleteCheckout(store_, session_id, now);
}

void State::RecordDelivery(DeliveryRecord record) {
  std::lock_guard<std::mutex> lock(mutex_);
  deliveries_.push_back(std::move(record));
}

void State::SetWebhookUrl(std::string url) {
  std::lock_guard<std::mutex> lock(mutex_);
  webhook_url_ = std::move(url);
}

std::string State::WebhookUrl() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return webhook_url_;
}

}  // namespace paybell::stripe_fake

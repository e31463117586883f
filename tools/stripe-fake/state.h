// Everything stripe-fake remembers, behind one mutex: the Stripe objects, the idempotency
// cache, injected failures and the request and delivery logs tests inspect.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tools/stripe-fake/checkout_flow.h"
#include "tools/stripe-fake/store.h"
#include "tools/stripe-fake/text.h"

namespace paybell::stripe_fake {

struct ApiRequest {
  std::string method;
  std::string path;
  std::string query;  // raw, as sent
  Form form;          // decoded body
  Form params;        // query merged with body: what the endpoint reads
  std::optional<std::string> idempotency_key;
  std::optional<std::string> stripe_version;
  std::string authorization;
};

struct ApiResponse {
  int status = 200;
  std::string body;
  std::string request_id;
  bool replayed = false;  // answered from the idempotency cache
};

struct DeliveryRecord {
  std::string event_id;
  std::string type;
  int status = 0;     // HTTP status from the webhook endpoint; 0 when none was received
  std::string error;  // empty on a 2xx answer
};

class State {
 public:
  State(ObjectStore store, std::string api_key);

  // The whole /v1 pipeline (log, injected failure, auth, idempotency, endpoint) in one critical
  // section, so a retried request can never run twice concurrently.
  ApiResponse HandleApi(const ApiRequest& request, int64_t now);

  // The next `count` /v1 requests whose path starts with `path_prefix` ("" = any), after
  // `skip` such requests still answered normally, fail with `status`.
  void InjectFailures(int status, int count, int skip = 0, std::string path_prefix = "");
  nlohmann::json RequestLog() const;
  nlohmann::json DeliveryLog() const;
  nlohmann::json EventLog() const;
  // Clears the request and delivery logs and pending failures; objects and idempotency keys
  // stay, so a test can reset between phases without losing what earlier phases created.
  void ResetLogs();

  std::optional<CheckoutRecord> FindCheckout(const std::string& id) const;
  std::optional<nlohmann::json> FindPortalSession(const std::string& id) const;
  std::optional<nlohmann::json> FindInvoice(const std::string& id) const;
  std::vector<nlohmann::json> SubscriptionsOf(const std::string& customer) const;
  PayOutcome Pay(const std::string& session_id, int64_t now);
  ChangeOutcome ChangeSubscription(const std::string& customer, const SubscriptionChange& change,
                                   int64_t now);
  // Slows every /v1 request whose path starts with `path_prefix` by `ms` (0: off), and counts
  // how many such requests were in flight at once (a test of "one replica at a time").
  void SetDelay(std::string path_prefix, int ms);
  // The delay for `path` (0: none); `Enter` and `Leave` bracket a delayed request.
  int DelayFor(const std::string& path) const;
  void Enter();
  void Leave();
  // {"in_flight", "max_in_flight", "delayed"} for the delayed prefix since SetDelay.
  nlohmann::json Concurrency() const;
  // A webhook outage: while on, events are created and listed (GET /v1/events) as usual but
  // not delivered; each undelivered one is in the delivery log with its reason.
  void SetWebhookOutage(bool on);
  bool WebhookOutage() const;
  void RecordDelivery(DeliveryRecord record);

  // Where hosted payments deliver events; settable at run time (POST /_webhook) because a test
  // often learns its server's port only after starting the fake. Empty: none.
  void SetWebhookUrl(std::string url);
  std::string WebhookUrl() const;

 private:
  struct StoredResponse {
    std::string method;
    std::string path;
    Form params;
    ApiResponse response;
  };

  ApiResponse HandleApiLocked(const ApiRequest& request, bool authorized, int64_t now);

  mutable std::mutex mutex_;
  const std::string api_key_;
  ObjectStore store_;
  std::vector<nlohmann::json> requests_;
  std::vector<DeliveryRecord> deliveries_;
  std::map<std::string, StoredResponse> idempotent_;
  std::string webhook_url_;
  int fault_status_ = 0;
  int faults_left_ = 0;
  int fault_skip_ = 0;
  std::string fault_path_;
  bool webhook_outage_ = false;
  std::string delay_path_;
  int delay_ms_ = 0;
  int in_flight_ = 0;
  int max_in_flight_ = 0;
  int delayed_ = 0;
};

}  // namespace paybell::stripe_fake

// The Stripe API as Paybell uses it: form-encoded POSTs with an Idempotency-Key, and GETs.
// One interface so the billing logic is tested with a mock and run against libcurl.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace paybell::stripe {

// When a whole operation (all its Stripe calls, retries included) must be done.
using Deadline = std::chrono::steady_clock::time_point;

// Ordered (key, value) pairs; keys use Stripe's brackets: "line_items[0][price]".
using FormFields = std::vector<std::pair<std::string, std::string>>;

// The caller's deadline less `margin`, capped at now + `cap`.
Deadline OperationDeadline(std::chrono::system_clock::time_point caller_deadline,
                           std::chrono::milliseconds cap, std::chrono::milliseconds margin);

class StripeApi {
 public:
  virtual ~StripeApi() = default;
  // Throws common::Error (see stripe_errors.h for the mapping). Returns the parsed JSON body.
  virtual nlohmann::json Post(const std::string& path, const FormFields& form,
                              const std::string& idempotency_key, Deadline deadline) = 0;
  virtual nlohmann::json Get(const std::string& path, const FormFields& query,
                             Deadline deadline) = 0;
};

}  // namespace paybell::stripe

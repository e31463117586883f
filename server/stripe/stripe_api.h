// The Stripe API as Paybell uses it: form-encoded POSTs with an Idempotency-Key, and GETs.
// One interface so the billing logic is tested with a mock and run against libcurl.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace paybell::stripe {

// Ordered (key, value) pairs; keys use Stripe's brackets: "line_items[0][price]".
using FormFields = std::vector<std::pair<std::string, std::string>>;

// When a whole operation (every Stripe call a request makes, retries and backoff included) must
// be done. One deadline per operation, not a budget per call: a checkout makes several calls, and
// together they must finish before the caller's own deadline.
using Deadline = std::chrono::steady_clock::time_point;

// The deadline for an operation serving a caller whose gRPC deadline is `caller_deadline`: that
// deadline less `margin` (Paybell's own work after the last Stripe call: recording, answering),
// and never later than `cap` from now. No caller deadline, or gRPC's "infinite" one (a far future
// such as system_clock's max), gives `cap`. A caller deadline closer than `margin` gives a
// deadline that has passed already, so the Stripe calls fail fast instead of being cut off.
Deadline OperationDeadline(std::optional<std::chrono::system_clock::time_point> caller_deadline,
                           std::chrono::milliseconds cap, std::chrono::milliseconds margin);

class StripeApi {
 public:
  virtual ~StripeApi() = default;
  // Throws common::Error (see stripe_errors.h for the mapping); UNAVAILABLE when `deadline`
  // passes first. Returns the parsed JSON body.
  virtual nlohmann::json Post(const std::string& path, const FormFields& form,
                              const std::string& idempotency_key, Deadline deadline) = 0;
  virtual nlohmann::json Get(const std::string& path, const FormFields& query,
                             Deadline deadline) = 0;
};

}  // namespace paybell::stripe

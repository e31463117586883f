// The Stripe API as Paybell uses it: form-encoded POSTs with an Idempotency-Key, and GETs.
// One interface so the billing logic is tested with a mock and run against libcurl.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace paybell::stripe {

// Ordered (key, value) pairs; keys use Stripe's brackets: "line_items[0][price]".
using FormFields = std::vector<std::pair<std::string, std::string>>;

class StripeApi {
 public:
  virtual ~StripeApi() = default;
  // Throws common::Error (see stripe_errors.h for the mapping). Returns the parsed JSON body.
  virtual nlohmann::json Post(const std::string& path, const FormFields& form,
                              const std::string& idempotency_key) = 0;
  virtual nlohmann::json Get(const std::string& path, const FormFields& query) = 0;
};

}  // namespace paybell::stripe

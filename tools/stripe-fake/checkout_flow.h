// Completing a hosted checkout: the customer, subscription and events a real payment produces.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tools/stripe-fake/store.h"

namespace paybell::stripe_fake {

struct PayOutcome {
  enum class Kind { kCompleted, kNotFound, kAlreadyPaid };
  Kind kind = Kind::kNotFound;
  nlohmann::json session;              // the session after payment (or as it stands)
  std::vector<nlohmann::json> events;  // to deliver, in order; empty unless kCompleted
};

// Marks an open session paid, creating the customer (unless the session named one) and the
// subscription. Callers hold the state lock and deliver the events after releasing it.
PayOutcome CompleteCheckout(ObjectStore& store, const std::string& session_id, int64_t now);

}  // namespace paybell::stripe_fake

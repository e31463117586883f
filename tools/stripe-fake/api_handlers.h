// The /v1 endpoints stripe-fake implements, as pure functions over the object store.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "tools/stripe-fake/store.h"
#include "tools/stripe-fake/text.h"

namespace paybell::stripe_fake {

struct ApiResult {
  int status = 200;
  nlohmann::json body;
};

// Routes one authorised /v1 request. `params` holds the query string merged with the form body
// (Stripe reads GET parameters from the query and POST parameters from the body). Callers hold
// the state lock; nothing here does I/O.
ApiResult DispatchApi(ObjectStore& store, const std::string& method, const std::string& path,
                      const Form& params, int64_t now);

}  // namespace paybell::stripe_fake

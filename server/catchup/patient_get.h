// A Stripe read that outlasts rate limits: catch-up and reconcile page through lists that can
// be long, and a 429 half-way must not throw the pages already read away.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "server/common/stop_signal.h"
#include "server/stripe/stripe_api.h"

namespace paybell::catchup {

struct Patience {
  // One call, the client's own retries included.
  std::chrono::milliseconds call_timeout{60000};
  // A call Stripe keeps refusing (429, 5xx, network) is made again with the same query (the
  // same cursor), after a backoff doubling from backoff_base to backoff_cap, at most `attempts`
  // times in all.
  int attempts = 8;
  std::chrono::milliseconds backoff_base{1000};
  std::chrono::milliseconds backoff_cap{30000};
};

// api.Get(path, query), again after a backoff while it fails with kUnavailable. `what` names
// the call in the log ("page 3 of Stripe events"). Throws the last common::Error when the
// attempts are spent or another error occurs (kFailedPrecondition when Stripe answers 400: the
// query is Paybell's own), kUnavailable when `stop` is signalled.
nlohmann::json PatientGet(stripe::StripeApi& api, const std::string& path,
                          const stripe::FormFields& query, const Patience& patience,
                          const common::StopSignal* stop, const std::string& what);

}  // namespace paybell::catchup

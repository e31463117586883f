#include "server/catchup/patient_get.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>

#include "server/common/error.h"

namespace paybell::catchup {

nlohmann::json PatientGet(stripe::StripeApi& api, const std::string& path,
                          const stripe::FormFields& query, const Patience& patience,
                          const common::StopSignal* stop, const std::string& what) {
  std::chrono::milliseconds wait = patience.backoff_base;
  for (int attempt = 1;; ++attempt) {
    common::ThrowIfStopped(stop, what);
    try {
      return api.Get(path, query, std::chrono::steady_clock::now() + patience.call_timeout);
    } catch (const common::Error& e) {
      if (e.code() == common::ErrorCode::kInvalidArgument) {
        // Paybell built this query, not the caller: Stripe refusing it (an API version that
        // does not know a parameter or an event type) is for an operator to look into.
        throw common::Error(common::ErrorCode::kFailedPrecondition,
                            what + ": Stripe refused the request: " + e.what());
      }
      // Rate limited (429), Stripe down or unreachable: the client already retried a few times.
      // Back off longer and ask the same again; the cursor is unchanged.
      if (e.code() != common::ErrorCode::kUnavailable || attempt >= patience.attempts) throw;
      spdlog::warn("{} failed ({}); asking again in {} ms", what, e.what(), wait.count());
      if (stop == nullptr) {
        std::this_thread::sleep_for(wait);
      } else if (stop->WaitFor(wait)) {
        common::ThrowIfStopped(stop, what);
      }
      wait = std::min(wait * 2, patience.backoff_cap);
    }
  }
}

}  // namespace paybell::catchup

// StripeApi over libcurl: bearer key, pinned Stripe-Version, and retries with jittered backoff
// (same Idempotency-Key) on network errors, 409, 429 and 5xx, all within the caller's deadline.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "server/common/backoff.h"
#include "server/stripe/stripe_api.h"

namespace paybell::stripe {

// The API version Paybell's parsing is written against (the fixtures' current shapes).
inline constexpr char kStripeApiVersion[] = "2025-03-31.basil";

struct StripeClientOptions {
  std::string api_base;       // STRIPE_API_BASE, no trailing slash
  std::string secret_key;     // STRIPE_SECRET_KEY; never logged
  std::string extra_ca_file;  // PAYBELL_CA_FILE: trusted besides the system's CAs
  std::chrono::milliseconds connect_timeout{5000};
  // One attempt, shortened to the time left before the operation's deadline.
  std::chrono::milliseconds attempt_timeout{15000};
  int max_attempts = 4;
  // Full-jitter backoff (see FullJitterBackoff): the bound starts at backoff_base, doubles per
  // retry and stops growing at backoff_cap.
  std::chrono::milliseconds backoff_base{250};
  std::chrono::milliseconds backoff_cap{4000};
  // Uniform in [0, 1); spreads the replicas' retries. Empty: a per-thread generator seeded
  // from std::random_device. Tests inject a fixed sequence.
  std::function<double()> random_unit;
};

// Stripe's retries use the shared full-jitter backoff.
using common::FullJitterBackoff;

class CurlStripeClient final : public StripeApi {
 public:
  explicit CurlStripeClient(StripeClientOptions options);
  nlohmann::json Post(const std::string& path, const FormFields& form,
                      const std::string& idempotency_key, Deadline deadline) override;
  nlohmann::json Get(const std::string& path, const FormFields& query, Deadline deadline) override;

 private:
  struct Response {
    long status = 0;
    std::string body;
    std::string network_error;             // non-empty when no HTTP answer came
    bool transient_network_error = false;  // connect/timeout/send/receive: worth a retry
    std::optional<bool> should_retry;      // Stripe-Should-Retry, when Stripe sent it
  };
  // Whether to try again with the same Idempotency-Key.
  static bool Retryable(const Response& response);
  Response PerformOnce(const std::string& method, const std::string& url, const std::string& body,
                       const std::string& idempotency_key, std::chrono::milliseconds timeout) const;
  nlohmann::json Perform(const std::string& method, const std::string& path, const std::string& url,
                         const std::string& body, const std::string& idempotency_key,
                         Deadline deadline);
  double RandomUnit() const;

  StripeClientOptions options_;
  std::string ca_bundle_;  // system CAs + extra_ca_file, when an extra file is configured
};

}  // namespace paybell::stripe

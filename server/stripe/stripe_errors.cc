#include "server/stripe/stripe_errors.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>
#include <utility>

#include "server/stripe/key_redaction.h"

namespace paybell::stripe {

using common::Error;
using common::ErrorCode;

// 409: a request with the same Idempotency-Key is still running at Stripe (or a lock timed
// out); trying again with the key gets its answer.
bool IsRetryableStatus(long http_status) {
  return http_status == 409 || http_status == 429 || http_status >= 500;
}

Error ErrorFromStripeResponse(long http_status, const std::string& body) {
  std::string message;
  std::string type;
  const auto json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_object() && json.contains("error") && json["error"].is_object()) {
    const auto& error = json["error"];
    if (error.contains("message") && error["message"].is_string()) message = error["message"];
    if (error.contains("type") && error["type"].is_string()) type = error["type"];
  }
  // For 401 and 403 Stripe's message quotes part of the key: the caller learns only what the
  // operator must fix, and the operator's log gets Stripe's detail with the key blanked out.
  if (http_status == 401) {
    spdlog::warn("Stripe rejected the key (HTTP 401): {}", RedactStripeKeys(message));
    return Error(ErrorCode::kFailedPrecondition, "Stripe key rejected (check STRIPE_SECRET_KEY)");
  }
  if (http_status == 403) {
    // A restricted key without the permission: configuration, not the caller's input.
    spdlog::warn("Stripe refused the key's permissions (HTTP 403): {}", RedactStripeKeys(message));
    return Error(ErrorCode::kFailedPrecondition,
                 "Stripe refused the key's permissions (check the restricted key's permissions "
                 "for STRIPE_SECRET_KEY)");
  }
  if (http_status == 409 || http_status == 429 || http_status >= 500) {
    return Error(ErrorCode::kUnavailable,
                 "Stripe is unavailable (HTTP " + std::to_string(http_status) + "); try again");
  }
  // Other messages describe the request and are worth passing on, but never with a key in them.
  message = message.empty() ? "Stripe answered HTTP " + std::to_string(http_status)
                            : RedactStripeKeys(std::move(message));
  if (http_status == 404) return Error(ErrorCode::kNotFound, "Stripe: " + message);
  if (http_status == 402 || type == "card_error") {
    return Error(ErrorCode::kFailedPrecondition, "Stripe: " + message);
  }
  if (type == "idempotency_error") {
    // One key, different parameters: Paybell derived the key wrongly. A bug, not user input.
    spdlog::error("Stripe idempotency error: {}", message);
    return Error(ErrorCode::kInternal, "Stripe rejected an idempotency key");
  }
  return Error(ErrorCode::kInvalidArgument, "Stripe: " + message);
}

}  // namespace paybell::stripe

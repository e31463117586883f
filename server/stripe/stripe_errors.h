// The one mapping from Stripe's answers to domain errors.
#pragma once

#include <string>

#include "server/common/error.h"

namespace paybell::stripe {

// For a non-2xx answer that will not be retried. 400 invalid_request_error → INVALID_ARGUMENT
// with Stripe's message; 401 and 403 → FAILED_PRECONDITION with a fixed message (Stripe's,
// keys redacted, only in the log); 402 card errors → FAILED_PRECONDITION; 404 → NOT_FOUND;
// 409, 429 and 5xx → UNAVAILABLE; idempotency_error → INTERNAL (Paybell's bug). Never contains
// the key or a fragment of it.
common::Error ErrorFromStripeResponse(long http_status, const std::string& body);

// Whether an answer is worth retrying with the same Idempotency-Key.
bool IsRetryableStatus(long http_status);

}  // namespace paybell::stripe

// The DOM implementation of ParseStripeEvent that the streaming scanner replaced, kept for the
// differential tests (tests/unit/stripe_event_differential_test.cc, tests/fuzz): both must return
// the same StripeEvent, or both throw MalformedEvent, for every payload.
#pragma once

#include <string_view>

#include "server/webhooks/stripe_event.h"

namespace paybell::testing {

webhooks::StripeEvent ParseStripeEventReference(std::string_view payload);

// Field-by-field equality of two parse results (StripeEvent has no operator==).
bool SameEvent(const webhooks::StripeEvent& a, const webhooks::StripeEvent& b);

}  // namespace paybell::testing

// Signs and delivers events to the webhook endpoint exactly as Stripe does.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tools/stripe-fake/state.h"

namespace paybell::stripe_fake {

// "t=<timestamp>,v1=<hex HMAC-SHA256(secret, "<timestamp>.<payload>")>"; the secret is used
// whole, whsec_ prefix included, which is how Stripe's libraries verify it.
std::string SignatureHeader(std::string_view secret, int64_t timestamp, std::string_view payload);

struct WebhookTarget {
  std::string url;  // empty: no endpoint configured
  std::string secret;
};

// POSTs one event and reports what came back; never throws. A non-2xx answer or a transport
// error is a failed delivery (Stripe would retry it later; the fake only records it).
DeliveryRecord DeliverEvent(const WebhookTarget& target, const nlohmann::json& event, int64_t now);

}  // namespace paybell::stripe_fake

// Verification of Stripe's webhook signature header, exactly as Stripe signs:
// "t=<unix>,v1=<hex>[,v1=<hex>…][,v0=…]", HMAC-SHA256 keyed with the whole "whsec_…" string
// over "<t>.<raw body>".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace paybell::webhooks {

struct SignatureCheck {
  bool ok = false;
  std::string reason;  // why not, for the 400 answer and the log; never a secret
};

// Accepts when any v1 signature in the header matches any of `secrets` (rotation), compared in
// constant time, and the timestamp is within `tolerance_s` of `now` in either direction
// (Stripe's libraries only bound the past; a timestamp from the future beyond the tolerance
// means a forged or badly skewed sender, so it is refused too). Other schemes (v0) are ignored.
SignatureCheck VerifyStripeSignature(std::string_view header, std::string_view payload,
                                     const std::vector<std::string>& secrets, int64_t tolerance_s,
                                     int64_t now);

// HMAC-SHA256(secret, "<timestamp>.<payload>") as lowercase hex; how Stripe computes v1.
std::string ComputeStripeSignature(std::string_view secret, int64_t timestamp,
                                   std::string_view payload);

}  // namespace paybell::webhooks

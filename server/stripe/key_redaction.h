// Keeps Stripe API keys (or the fragments Stripe quotes back) out of logs and caller messages.
#pragma once

#include <string>

namespace paybell::stripe {

// Replaces every token that looks like a Stripe key — (sk|rk|pk)_(test|live)_ followed by
// letters and digits, including the masked forms Stripe quotes in its messages
// ("rk_test_51H*****abc", "sk_test_51H...abc", "pk_live_51H…abc") — by "<prefix>…redacted",
// keeping the prefix so an operator still sees which kind of key was involved.
std::string RedactStripeKeys(std::string text);

}  // namespace paybell::stripe

// application/x-www-form-urlencoded bodies and query strings, as Stripe's API expects them.
#pragma once

#include <string>
#include <string_view>

#include "server/stripe/stripe_api.h"

namespace paybell::stripe {

// Percent-encodes everything but unreserved characters (A-Z a-z 0-9 - _ . ~). Brackets in keys
// are kept literal, as Stripe's own libraries send them.
std::string PercentEncode(std::string_view text, bool keep_brackets = false);

// "k1=v1&k2=v2" with keys and values encoded; order preserved.
std::string FormEncode(const FormFields& fields);

}  // namespace paybell::stripe

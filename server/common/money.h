// Amounts in a currency's minor unit, written for people.
#pragma once

#include <cstdint>
#include <string>

namespace paybell::common {

// 1234, "usd" → "12.34 USD"; -5, "EUR" → "-0.05 EUR"; 500, "JPY" → "500 JPY"; 1234, "KWD" →
// "1.234 KWD" (Stripe's zero- and three-decimal currencies). The code is shown upper-case.
std::string FormatMoney(int64_t minor, const std::string& currency);

}  // namespace paybell::common

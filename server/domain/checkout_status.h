// What became of a checkout session Paybell created (checkout_sessions.status).
#pragma once

#include <optional>
#include <string_view>

namespace paybell::domain {

enum class CheckoutStatus { kOpen, kComplete, kExpired };

std::optional<CheckoutStatus> CheckoutStatusFromWord(std::string_view word);
std::string_view CheckoutStatusWord(CheckoutStatus status);

}  // namespace paybell::domain

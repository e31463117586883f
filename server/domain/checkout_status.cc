#include "server/domain/checkout_status.h"

#include <utility>

#include "server/domain/words.h"

namespace paybell::domain {
namespace {

constexpr std::pair<CheckoutStatus, std::string_view> kCheckoutStatusWords[] = {
    {CheckoutStatus::kOpen, "open"},
    {CheckoutStatus::kComplete, "complete"},
    {CheckoutStatus::kExpired, "expired"},
};

}  // namespace

std::optional<CheckoutStatus> CheckoutStatusFromWord(std::string_view word) {
  return FromWord(kCheckoutStatusWords, word);
}

std::string_view CheckoutStatusWord(CheckoutStatus status) {
  return WordOf(kCheckoutStatusWords, status);
}

}  // namespace paybell::domain

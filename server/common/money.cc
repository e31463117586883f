#include "server/common/money.h"

#include <algorithm>
#include <cctype>
#include <iterator>
#include <string_view>

namespace paybell::common {
namespace {

// Digits after the decimal point in the currency's minor unit (Stripe's list).
int MinorDigits(std::string_view currency) {
  static constexpr std::string_view kZero[] = {"BIF", "CLP", "DJF", "GNF", "JPY", "KMF",
                                               "KRW", "MGA", "PYG", "RWF", "UGX", "VND",
                                               "VUV", "XAF", "XOF", "XPF"};
  static constexpr std::string_view kThree[] = {"BHD", "JOD", "KWD", "OMR", "TND"};
  if (std::find(std::begin(kZero), std::end(kZero), currency) != std::end(kZero)) return 0;
  if (std::find(std::begin(kThree), std::end(kThree), currency) != std::end(kThree)) return 3;
  return 2;
}

}  // namespace

std::string FormatMoney(int64_t minor, const std::string& currency) {
  std::string code = currency;
  std::transform(code.begin(), code.end(), code.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  const bool negative = minor < 0;
  // Through unsigned so INT64_MIN has a magnitude too.
  const uint64_t magnitude =
      negative ? ~static_cast<uint64_t>(minor) + 1 : static_cast<uint64_t>(minor);
  const int digits = MinorDigits(code);
  uint64_t scale = 1;
  for (int i = 0; i < digits; ++i) scale *= 10;
  std::string out = (negative ? "-" : "") + std::to_string(magnitude / scale);
  if (digits > 0) {
    std::string fraction = std::to_string(magnitude % scale);
    fraction.insert(0, static_cast<size_t>(digits) - fraction.size(), '0');
    out += "." + fraction;
  }
  return code.empty() ? out : out + " " + code;
}

}  // namespace paybell::common

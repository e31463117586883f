#include "tools/paybellctl/since.h"

#include <algorithm>
#include <cctype>
#include <ctime>

namespace paybell::ctl {

std::optional<int64_t> ParseSince(const std::string& text, int64_t now) {
  if (text.size() == 10 && text[4] == '-' && text[7] == '-') {
    std::tm date{};
    const char* end = strptime(text.c_str(), "%Y-%m-%d", &date);
    if (end == nullptr || *end != '\0') return std::nullopt;
    const int64_t at = timegm(&date);
    return at > 0 ? std::optional<int64_t>(at) : std::nullopt;
  }
  if (text.size() < 2 || text.size() > 9) return std::nullopt;
  const std::string digits = text.substr(0, text.size() - 1);
  if (!std::all_of(digits.begin(), digits.end(), [](unsigned char c) { return std::isdigit(c); })) {
    return std::nullopt;
  }
  int64_t unit = 0;
  switch (text.back()) {
    case 's':
      unit = 1;
      break;
    case 'm':
      unit = 60;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'd':
      unit = 86400;
      break;
    default:
      return std::nullopt;
  }
  const int64_t at = now - std::stoll(digits) * unit;
  return at > 0 ? std::optional<int64_t>(at) : std::nullopt;
}

}  // namespace paybell::ctl

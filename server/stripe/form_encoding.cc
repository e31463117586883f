#include "server/stripe/form_encoding.h"

#include <cctype>

namespace paybell::stripe {

std::string PercentEncode(std::string_view text, bool keep_brackets) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
        (keep_brackets && (c == '[' || c == ']'))) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

std::string FormEncode(const FormFields& fields) {
  std::string out;
  for (const auto& [key, value] : fields) {
    if (!out.empty()) out.push_back('&');
    out += PercentEncode(key, /*keep_brackets=*/true);
    out.push_back('=');
    out += PercentEncode(value);
  }
  return out;
}

}  // namespace paybell::stripe

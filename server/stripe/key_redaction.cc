#include "server/stripe/key_redaction.h"

#include <array>
#include <cctype>
#include <string_view>

namespace paybell::stripe {

namespace {

constexpr std::string_view kEllipsis = "\xE2\x80\xA6";  // "…" in UTF-8
constexpr std::string_view kBullet = "\xE2\x80\xA2";    // "•", another masking character
constexpr std::string_view kRedacted = "\xE2\x80\xA6redacted";

// Length of the key prefix ("sk_test_") at `at`, or 0.
size_t KeyPrefixAt(std::string_view text, size_t at) {
  static constexpr std::array<std::string_view, 6> kPrefixes = {"sk_test_", "sk_live_", "rk_test_",
                                                                "rk_live_", "pk_test_", "pk_live_"};
  for (std::string_view prefix : kPrefixes) {
    if (text.substr(at, prefix.size()) == prefix) return prefix.size();
  }
  return 0;
}

// Length of the key body starting at `at`: letters, digits and masking. A single '.' is not
// masking but the end of a sentence, so it is left in place.
size_t KeyBodyAt(std::string_view text, size_t at) {
  size_t end = at;
  while (end < text.size()) {
    const unsigned char c = static_cast<unsigned char>(text[end]);
    if (std::isalnum(c) || c == '*') {
      ++end;
    } else if (c == '.' && end + 1 < text.size() && text[end + 1] == '.') {
      while (end < text.size() && text[end] == '.') ++end;
    } else if (text.substr(end, kEllipsis.size()) == kEllipsis ||
               text.substr(end, kBullet.size()) == kBullet) {
      end += kEllipsis.size();
    } else {
      break;
    }
  }
  return end - at;
}

}  // namespace

std::string RedactStripeKeys(std::string text) {
  std::string out;
  out.reserve(text.size());
  const std::string_view view(text);
  size_t i = 0;
  while (i < view.size()) {
    const size_t prefix = KeyPrefixAt(view, i);
    if (prefix == 0) {
      out.push_back(view[i++]);
      continue;
    }
    out.append(view.substr(i, prefix));
    out.append(kRedacted);
    i += prefix;
    i += KeyBodyAt(view, i);
  }
  return out;
}

}  // namespace paybell::stripe

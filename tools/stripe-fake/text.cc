#include "tools/stripe-fake/text.h"

namespace paybell::stripe_fake {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string PercentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      out.push_back(' ');
      continue;
    }
    if (c == '%' && i + 2 < text.size()) {
      const int hi = HexValue(text[i + 1]);
      const int lo = HexValue(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(c);
  }
  return out;
}

Form ParseForm(std::string_view encoded) {
  Form form;
  while (!encoded.empty()) {
    const size_t amp = encoded.find('&');
    const std::string_view pair = encoded.substr(0, amp);
    encoded = amp == std::string_view::npos ? std::string_view() : encoded.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    std::string key = PercentDecode(pair.substr(0, eq));
    std::string value = eq == std::string_view::npos ? "" : PercentDecode(pair.substr(eq + 1));
    form[std::move(key)] = std::move(value);
  }
  return form;
}

std::string QueryOf(std::string_view target) {
  const size_t question = target.find('?');
  if (question == std::string_view::npos) return "";
  return std::string(target.substr(question + 1));
}

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string MaskApiKey(std::string_view key) {
  // Keep the "sk_test_"-style prefix (it says which kind of key was sent) and, for long keys
  // only, the last four characters, as Stripe does; short keys would be nearly revealed.
  size_t prefix = 0;
  const size_t first = key.find('_');
  if (first != std::string_view::npos) {
    const size_t second = key.find('_', first + 1);
    prefix = second == std::string_view::npos ? first + 1 : second + 1;
  }
  if (prefix > 8 || prefix >= key.size()) prefix = 0;
  std::string masked(key.substr(0, prefix));
  if (key.size() >= 24) {
    masked += std::string(key.size() - prefix - 4, '*');
    masked += key.substr(key.size() - 4);
  } else {
    masked += "****";
  }
  return masked;
}

std::map<std::string, std::string> BracketedParams(const Form& form, std::string_view prefix) {
  std::map<std::string, std::string> out;
  const std::string open = std::string(prefix) + "[";
  for (auto it = form.lower_bound(open); it != form.end(); ++it) {
    const std::string& key = it->first;
    if (key.compare(0, open.size(), open) != 0) break;
    // Only one level deep: "metadata[a][b]" is not a metadata entry Stripe would accept.
    const std::string name = key.substr(open.size(), key.size() - open.size() - 1);
    if (key.back() != ']' || name.empty() || name.find_first_of("[]") != std::string::npos) {
      continue;
    }
    out[name] = it->second;
  }
  return out;
}

}  // namespace paybell::stripe_fake

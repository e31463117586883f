#include "server/common/log_escape.h"

#include <cstddef>

namespace paybell::common {
namespace {

// One step of UTF-8 decoding. `valid` false: `length` bytes form a maximal ill-formed subpart.
struct Utf8Step {
  char32_t code_point;
  std::size_t length;
  bool valid;
};

// Decodes the sequence starting at text[at], accepting only the well-formed byte sequences of
// Unicode Table 3-7 (no overlongs, no surrogates, nothing above U+10FFFF).
Utf8Step NextCodePoint(std::string_view text, std::size_t at) {
  const auto lead = static_cast<unsigned char>(text[at]);
  if (lead < 0x80) return {lead, 1, true};
  std::size_t continuations = 0;
  char32_t code_point = 0;
  unsigned char low = 0x80;  // the range the next byte must fall in
  unsigned char high = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) {
    continuations = 1;
    code_point = lead & 0x1f;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    continuations = 2;
    code_point = lead & 0x0f;
    if (lead == 0xe0) low = 0xa0;   // overlong below U+0800
    if (lead == 0xed) high = 0x9f;  // surrogates U+D800–U+DFFF
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    continuations = 3;
    code_point = lead & 0x07;
    if (lead == 0xf0) low = 0x90;   // overlong below U+10000
    if (lead == 0xf4) high = 0x8f;  // above U+10FFFF
  } else {
    return {0, 1, false};  // a continuation byte, C0/C1 (overlong leads) or F5–FF
  }
  std::size_t length = 1;
  for (; length <= continuations; ++length) {
    if (at + length >= text.size()) return {0, length, false};
    const auto byte = static_cast<unsigned char>(text[at + length]);
    if (byte < low || byte > high) return {0, length, false};
    code_point = (code_point << 6) | (byte & 0x3f);
    low = 0x80;
    high = 0xbf;
  }
  return {code_point, length, true};
}

// Characters a terminal or log viewer may act on instead of showing: controls, line breaks,
// and the bidi formatting characters that reorder what a reader sees.
bool ActsInsteadOfShowing(char32_t c) {
  return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x2028 || c == 0x2029 ||
         (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

// `\x` and two hex digits, or `\u` and four: everything escaped by code point is below U+10000.
void AppendHexEscape(std::string& out, char kind, char32_t value) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '\\';
  out += kind;
  for (int shift = kind == 'x' ? 4 : 12; shift >= 0; shift -= 4) {
    out += kHex[(value >> shift) & 0xf];
  }
}

}  // namespace

std::string EscapeForTextLog(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 8);
  for (std::size_t at = 0; at < text.size();) {
    const Utf8Step step = NextCodePoint(text, at);
    if (!step.valid) {
      for (std::size_t k = 0; k < step.length; ++k) {
        AppendHexEscape(out, 'x', static_cast<unsigned char>(text[at + k]));
      }
    } else if (step.code_point == '\\') {
      out += "\\\\";
    } else if (step.code_point == '\n') {
      out += "\\n";
    } else if (step.code_point == '\r') {
      out += "\\r";
    } else if (step.code_point == '\t') {
      out += "\\t";
    } else if (ActsInsteadOfShowing(step.code_point)) {
      AppendHexEscape(out, step.code_point < 0x80 ? 'x' : 'u', step.code_point);
    } else {
      out.append(text.substr(at, step.length));
    }
    at += step.length;
  }
  return out;
}

std::string JsonEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 8);
  for (std::size_t at = 0; at < text.size();) {
    const Utf8Step step = NextCodePoint(text, at);
    if (!step.valid) {
      out += "\\ufffd";
    } else {
      switch (step.code_point) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\f':
          out += "\\f";
          break;
        default:
          if (ActsInsteadOfShowing(step.code_point)) {
            AppendHexEscape(out, 'u', step.code_point);
          } else {
            out.append(text.substr(at, step.length));
          }
      }
    }
    at += step.length;
  }
  return out;
}

}  // namespace paybell::common

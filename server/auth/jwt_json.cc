#include "server/auth/jwt_json.h"

#include <locale.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory_resource>
#include <system_error>
#include <vector>

namespace paybell::auth {
namespace {

// Bytes a string holds as they are: printable ASCII but the quote and the backslash.
constexpr std::array<bool, 256> kPlainStringBytes = [] {
  std::array<bool, 256> plain{};
  for (int c = 0x20; c < 0x80; ++c) plain[c] = c != '"' && c != '\\';
  return plain;
}();

bool IsSpace(unsigned char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }
bool IsDigit(unsigned char c) { return c >= '0' && c <= '9'; }

int HexDigit(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The four hex digits at p (the caller has checked that they are there), or -1.
int CodeUnit(const unsigned char* p) {
  int unit = 0;
  for (int i = 0; i < 4; ++i) {
    const int digit = HexDigit(p[i]);
    if (digit < 0) return -1;
    unit = unit * 16 + digit;
  }
  return unit;
}

bool IsHighSurrogate(int unit) { return unit >= 0xD800 && unit <= 0xDBFF; }
bool IsLowSurrogate(int unit) { return unit >= 0xDC00 && unit <= 0xDFFF; }

// nlohmann reads a number that is no int64_t or uint64_t as a double and refuses the document
// when that double is infinite ("number overflow"); underflow to 0 is accepted. `token` is a
// number the grammar accepted. (As server/webhooks/json_scanner.cc decides it.)
bool FitsDouble(std::string_view token) {
  size_t i = token[0] == '-' ? 1 : 0;
  const size_t int_begin = i;
  while (i < token.size() && IsDigit(token[i])) ++i;
  // The value is in [10^magnitude, 10^(magnitude + 1)).
  int64_t magnitude = 0;
  bool zero = token[int_begin] == '0';
  if (!zero) magnitude = static_cast<int64_t>(i - int_begin) - 1;
  if (i < token.size() && token[i] == '.') {
    const size_t fraction_begin = ++i;
    while (i < token.size() && IsDigit(token[i])) {
      if (zero && token[i] != '0') {
        magnitude = -static_cast<int64_t>(i - fraction_begin) - 1;
        zero = false;
      }
      ++i;
    }
  }
  if (zero) return true;
  if (i < token.size()) {  // the exponent, saturated far beyond any double's
    const bool negative = token[++i] == '-';
    if (token[i] == '+' || token[i] == '-') ++i;
    int64_t exponent = 0;
    for (; i < token.size(); ++i)
      exponent = std::min<int64_t>(exponent * 10 + (token[i] - '0'), 1'000'000'000'000);
    magnitude += negative ? -exponent : exponent;
  }
  if (magnitude < 308) return true;
  if (magnitude > 308) return false;
  double value = 0;  // near DBL_MAX only correct rounding can tell; from_chars rounds as strtod
  return std::from_chars(token.data(), token.data() + token.size(), value).ec !=
         std::errc::result_out_of_range;
}

void AppendUtf8(uint32_t code_point, std::string& out) {
  if (code_point < 0x80) {
    out.push_back(static_cast<char>(code_point));
  } else if (code_point < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (code_point >> 6)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else if (code_point < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (code_point >> 12)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (code_point >> 18)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  }
}

// Appends the unescaped form of a string's contents the scanner has validated.
void AppendUnescaped(std::string_view raw, std::string& out) {
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '\\') {
      out.push_back(raw[i]);
      continue;
    }
    const char escape = raw[++i];
    switch (escape) {
      case 'b':
        out.push_back('\b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'u': {
        const auto* digits = reinterpret_cast<const unsigned char*>(raw.data() + i + 1);
        auto code_point = static_cast<uint32_t>(CodeUnit(digits));
        i += 4;
        if (IsHighSurrogate(static_cast<int>(code_point))) {
          const auto low = static_cast<uint32_t>(CodeUnit(digits + 6));  // after "\u"
          code_point = 0x10000 + ((code_point - 0xD800) << 10) + (low - 0xDC00);
          i += 6;
        }
        AppendUtf8(code_point, out);
        break;
      }
      default:  // '"', '\\', '/'
        out.push_back(escape);
    }
  }
}

class Scanner {
 public:
  Scanner(std::string_view text, const std::string_view* names, size_t name_count,
          JwtJsonValue* values)
      : begin_(reinterpret_cast<const unsigned char*>(text.data())),
        p_(begin_),
        end_(begin_ + text.size()),
        text_(text),
        names_(names),
        name_count_(name_count),
        values_(values),
        seen_(&arena_) {
    seen_.reserve(kInlineNames);
  }

  bool ScanDocument() {
    std::fill(values_, values_ + name_count_, JwtJsonValue{});
    // nlohmann skips a byte order mark only when it is complete.
    if (p_ < end_ && *p_ == 0xEF) {
      if (end_ - p_ < 3 || p_[1] != 0xBB || p_[2] != 0xBF) return false;
      p_ += 3;
    }
    SkipSpace();
    if (p_ == end_ || *p_ != '{' || !ScanObject(1)) return false;
    SkipSpace();
    return p_ == end_ || *p_ == '\0';  // nlohmann reads NUL as the end of its input
  }

 private:
  // Enough for any token this server issues without touching the heap; more spill to it.
  static constexpr size_t kInlineNames = 32;

  void SkipSpace() {
    while (p_ < end_ && IsSpace(*p_)) ++p_;
  }

  bool Expect(unsigned char c) {
    SkipSpace();
    if (p_ == end_ || *p_ != c) return false;
    ++p_;
    return true;
  }

  // p_ is on '{'; `open` counts the containers open once it is, itself included (the callback's
  // depth for its names and values).
  bool ScanObject(int open) {
    ++p_;
    SkipSpace();
    if (p_ < end_ && *p_ == '}') {
      ++p_;
      return true;
    }
    if (open > kMaxJwtJsonDepth) return false;
    const size_t first = seen_.size();
    for (;;) {
      SkipSpace();
      JwtJsonValue key;
      if (p_ == end_ || *p_ != '"' || !ScanString(&key) || !Expect(':')) return false;
      const std::string_view name = NameOf(key);
      seen_.push_back(name);
      JwtJsonValue* slot = open == 1 ? Slot(name) : nullptr;
      JwtJsonValue ignored;
      if (!ScanValue(open, slot != nullptr ? slot : &ignored)) return false;
      SkipSpace();
      if (p_ == end_) return false;
      if (*p_ == '}') {
        ++p_;
        break;
      }
      if (*p_ != ',') return false;
      ++p_;
    }
    const bool unique = NamesUnique(first);
    seen_.resize(first);
    return unique;
  }

  bool ScanArray(int open) {
    ++p_;
    SkipSpace();
    if (p_ < end_ && *p_ == ']') {
      ++p_;
      return true;
    }
    if (open > kMaxJwtJsonDepth) return false;
    for (;;) {
      JwtJsonValue ignored;
      if (!ScanValue(open, &ignored)) return false;
      SkipSpace();
      if (p_ == end_) return false;
      if (*p_ == ']') {
        ++p_;
        return true;
      }
      if (*p_ != ',') return false;
      ++p_;
    }
  }

  // A member's value or an element, inside `open` containers.
  bool ScanValue(int open, JwtJsonValue* value) {
    SkipSpace();
    if (p_ == end_) return false;
    const unsigned char* start = p_;
    bool ok = false;
    switch (*p_) {
      case '{':
        value->type = JwtJsonType::kObject;
        ok = ScanObject(open + 1);
        break;
      case '[':
        value->type = JwtJsonType::kArray;
        ok = ScanArray(open + 1);
        break;
      case '"':
        return ScanString(value);
      case 't':
        value->type = JwtJsonType::kTrue;
        return ScanLiteral("true");
      case 'f':
        value->type = JwtJsonType::kFalse;
        return ScanLiteral("false");
      case 'n':
        value->type = JwtJsonType::kNull;
        return ScanLiteral("null");
      default:
        return ScanNumber(value);
    }
    value->offset = static_cast<size_t>(start - begin_);
    value->size = static_cast<size_t>(p_ - start);
    return ok;
  }

  JwtJsonValue* Slot(std::string_view name) {
    for (size_t i = 0; i < name_count_; ++i) {
      if (names_[i] == name) return &values_[i];
    }
    return nullptr;
  }

  // A name as the DOM would have keyed it; names with escapes (rare) are unescaped into a
  // buffer reserved once for the whole text, so earlier names stay where they are.
  std::string_view NameOf(const JwtJsonValue& key) {
    const std::string_view raw = key.In(text_);
    if (!key.escaped) return raw;
    if (unescaped_.capacity() < text_.size()) unescaped_.reserve(text_.size());
    const size_t start = unescaped_.size();
    AppendUnescaped(raw, unescaped_);
    return std::string_view(unescaped_).substr(start);
  }

  // Whether the names seen_[first..] of the object just closed are all different.
  bool NamesUnique(size_t first) {
    const auto begin = seen_.begin() + static_cast<std::ptrdiff_t>(first);
    const auto end = seen_.end();
    if (end - begin <= 16) {
      for (auto a = begin; a != end; ++a) {
        for (auto b = a + 1; b != end; ++b) {
          if (*a == *b) return false;
        }
      }
      return true;
    }
    std::sort(begin, end);
    return std::adjacent_find(begin, end) == end;
  }

  bool ScanLiteral(std::string_view literal) {
    if (static_cast<size_t>(end_ - p_) < literal.size() ||
        std::memcmp(p_, literal.data(), literal.size()) != 0) {
      return false;
    }
    p_ += literal.size();
    return true;
  }

  bool ScanNumber(JwtJsonValue* value) {
    const unsigned char* start = p_;
    if (*p_ == '-') ++p_;
    if (p_ == end_) return false;
    if (*p_ == '0') {
      ++p_;
    } else if (*p_ >= '1' && *p_ <= '9') {
      while (p_ < end_ && IsDigit(*p_)) ++p_;
    } else {
      return false;
    }
    bool integral = true;
    if (p_ < end_ && *p_ == '.') {
      integral = false;
      ++p_;
      if (p_ == end_ || !IsDigit(*p_)) return false;
      while (p_ < end_ && IsDigit(*p_)) ++p_;
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      integral = false;
      ++p_;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ == end_ || !IsDigit(*p_)) return false;
      while (p_ < end_ && IsDigit(*p_)) ++p_;
    }
    *value = JwtJsonValue{JwtJsonType::kNumber, false, integral,
                          static_cast<size_t>(start - begin_), static_cast<size_t>(p_ - start)};
    // An integer of up to 300 digits is finite as a double too, whichever type nlohmann picks.
    return (integral && value->size <= 300) || FitsDouble(value->In(text_));
  }

  // p_ is on the opening quote; validates up to and past the closing one.
  bool ScanString(JwtJsonValue* value) {
    ++p_;
    const unsigned char* start = p_;
    bool escaped = false;
    for (;;) {
      while (p_ < end_ && kPlainStringBytes[*p_]) ++p_;
      if (p_ == end_) return false;
      const unsigned char c = *p_;
      if (c == '"') break;
      if (c == '\\') {
        escaped = true;
        if (!ScanEscape()) return false;
      } else if (c < 0x20 || !ScanUtf8Sequence()) {
        return false;
      }
    }
    *value = JwtJsonValue{JwtJsonType::kString, escaped, false, static_cast<size_t>(start - begin_),
                          static_cast<size_t>(p_ - start)};
    ++p_;  // the closing quote
    return true;
  }

  bool ScanEscape() {
    ++p_;  // '\\'
    if (p_ == end_) return false;
    switch (*p_++) {
      case '"':
      case '\\':
      case '/':
      case 'b':
      case 'f':
      case 'n':
      case 'r':
      case 't':
        return true;
      case 'u':
        break;
      default:
        return false;
    }
    if (end_ - p_ < 4) return false;
    const int unit = CodeUnit(p_);
    p_ += 4;
    if (unit < 0 || IsLowSurrogate(unit)) return false;
    if (!IsHighSurrogate(unit)) return true;
    if (end_ - p_ < 6 || p_[0] != '\\' || p_[1] != 'u') return false;
    const int low = CodeUnit(p_ + 2);
    p_ += 6;
    return IsLowSurrogate(low);
  }

  // One multi-byte UTF-8 sequence (RFC 3629, table 3-7 of Unicode), as nlohmann checks it.
  bool ScanUtf8Sequence() {
    const unsigned char lead = *p_;
    unsigned char low = 0x80;  // the range of the second byte; the others are 80..BF
    unsigned char high = 0xBF;
    int continuation = 0;
    if (lead >= 0xC2 && lead <= 0xDF) {
      continuation = 1;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      continuation = 2;
      if (lead == 0xE0) low = 0xA0;   // no overlongs
      if (lead == 0xED) high = 0x9F;  // no surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      continuation = 3;
      if (lead == 0xF0) low = 0x90;   // no overlongs
      if (lead == 0xF4) high = 0x8F;  // nothing above U+10FFFF
    } else {
      return false;
    }
    if (end_ - p_ <= continuation) return false;
    if (p_[1] < low || p_[1] > high) return false;
    for (int i = 2; i <= continuation; ++i) {
      if (p_[i] < 0x80 || p_[i] > 0xBF) return false;
    }
    p_ += continuation + 1;
    return true;
  }

  const unsigned char* begin_;
  const unsigned char* p_;
  const unsigned char* end_;
  std::string_view text_;
  const std::string_view* names_;
  size_t name_count_;
  JwtJsonValue* values_;
  // The names of the objects open now, innermost last, for refusing a repeat.
  alignas(std::string_view)
      std::array<std::byte, kInlineNames * sizeof(std::string_view)> inline_names_;
  std::pmr::monotonic_buffer_resource arena_{inline_names_.data(), inline_names_.size()};
  std::pmr::vector<std::string_view> seen_;
  std::string unescaped_;
};

}  // namespace

bool ScanJwtObject(std::string_view text, const std::string_view* names, size_t name_count,
                   JwtJsonValue* values) {
  return Scanner(text, names, name_count, values).ScanDocument();
}

void JwtJsonString(std::string_view text, const JwtJsonValue& value, std::string& out) {
  out.clear();
  if (value.type != JwtJsonType::kString) return;
  const std::string_view raw = value.In(text);
  if (!value.escaped) {
    out.assign(raw);
    return;
  }
  AppendUnescaped(raw, out);
}

double JwtJsonNumber(std::string_view text, const JwtJsonValue& value) {
  std::string_view token = value.In(text);
  // nlohmann keeps an integer that fits 64 bits as one, and converts it to double (rounding to
  // nearest, as parsing the same digits as a double does); 18 digits always fit.
  if (value.integral && token.size() <= 18) {
    const bool negative = token.front() == '-';
    if (negative) token.remove_prefix(1);
    int64_t magnitude = 0;
    for (const char c : token) magnitude = magnitude * 10 + (c - '0');
    return static_cast<double>(negative ? -magnitude : magnitude);
  }
  // Anything else nlohmann reads with strtod in the C locale's number format; so does this
  // (strtod_l, so that no process locale can change it). Tokens are short and this is rare.
  static const locale_t kCLocale = newlocale(LC_ALL_MASK, "C", static_cast<locale_t>(0));
  const std::string copy(token);
  return strtod_l(copy.c_str(), nullptr, kCLocale);
}

}  // namespace paybell::auth

#include "server/webhooks/json_scanner.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <stdexcept>
#include <system_error>
#include <utility>

namespace paybell::webhooks {
namespace {

// Bytes a string holds as they are: printable ASCII but the quote and the backslash.
constexpr std::array<bool, 256> kPlainStringBytes = [] {
  std::array<bool, 256> plain{};
  for (int c = 0x20; c < 0x80; ++c) plain[c] = c != '"' && c != '\\';
  return plain;
}();

bool IsSpace(unsigned char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

// Eight bytes at a time, where they can be read (SWAR; see "Bit Twiddling Hacks"): the fast
// paths for indentation and string contents. They may only skip bytes the byte-wise code would
// also accept; any doubt falls back to it.
constexpr uint64_t kOnes = 0x0101010101010101;
constexpr uint64_t kHighBits = 0x8080808080808080;

uint64_t Load8(const unsigned char* p) {
  uint64_t word;
  std::memcpy(&word, p, sizeof word);
  return word;
}

// The index of the lowest byte of `word` with any bit set (the first in memory on the
// little-endian machines Paybell runs on).
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the SWAR helpers assume little-endian");
size_t FirstMarkedByte(uint64_t word) { return static_cast<size_t>(__builtin_ctzll(word)) / 8; }

// Non-zero if some byte of `word` is zero: the lowest marked byte is the first zero one (a
// borrow can only mark bytes above it).
uint64_t HasZeroByte(uint64_t word) { return (word - kOnes) & ~word & kHighBits; }

// Marks the bytes that need a closer look inside a string: '"', '\\', a control character or
// a byte >= 0x80. As for HasZeroByte, the lowest marked byte is the first such byte.
uint64_t HasStringSpecial(uint64_t word) {
  return HasZeroByte(word ^ (kOnes * '"')) | HasZeroByte(word ^ (kOnes * '\\')) |
         ((word - kOnes * 0x20) & ~word & kHighBits) | (word & kHighBits);
}
bool IsDigit(unsigned char c) { return c >= '0' && c <= '9'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

int HexDigit(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The four hex digits at p (p + 4 <= end checked by the caller), or -1.
int CodeUnit(const unsigned char* p) {
  int unit = 0;
  for (int i = 0; i < 4; ++i) {
    const int digit = HexDigit(p[i]);
    if (digit < 0) return -1;
    unit = unit * 16 + digit;
  }
  return unit;
}

// nlohmann reads a number that is not an int64_t or uint64_t as a double and refuses the
// document when that double is infinite (its "number overflow"); underflow to 0 is accepted.
// `token` is a number the grammar accepted.
bool FitsDouble(std::string_view token) {
  size_t i = token[0] == '-' ? 1 : 0;
  const size_t int_begin = i;
  while (i < token.size() && IsDigit(token[i])) ++i;
  // The value is in [10^magnitude, 10^(magnitude + 1)); first the place of its first digit
  // that is not 0 (the grammar allows a leading 0 only as the whole integer part).
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
  if (magnitude < 308) return true;  // below 10^308 < DBL_MAX
  if (magnitude > 308) return false;
  // Near DBL_MAX (about 1.8e308) only correct rounding can tell; from_chars rounds as strtod.
  double value = 0;
  return std::from_chars(token.data(), token.data() + token.size(), value).ec !=
         std::errc::result_out_of_range;
}

bool IsHighSurrogate(int unit) { return unit >= 0xD800 && unit <= 0xDBFF; }
bool IsLowSurrogate(int unit) { return unit >= 0xDC00 && unit <= 0xDFFF; }

class Scanner {
 public:
  Scanner(std::string_view text, const JsonPaths& paths, JsonValue* values, JsonElementHook hook,
          void* hook_context)
      : begin_(reinterpret_cast<const unsigned char*>(text.data())),
        p_(begin_),
        end_(begin_ + text.size()),
        text_(text),
        paths_(paths),
        values_(values),
        hook_(hook),
        hook_context_(hook_context) {}

  bool ScanDocument() {
    Reset(0);
    // nlohmann skips a byte order mark only when it is complete.
    if (p_ < end_ && *p_ == 0xEF) {
      if (end_ - p_ < 3 || p_[1] != 0xBB || p_[2] != 0xBF) return false;
      p_ += 3;
    }
    if (!ScanTracked(0, 0)) return false;
    SkipSpace();
    return p_ == end_ || *p_ == '\0';
  }

 private:
  void Reset(size_t node) {
    for (size_t i = node; i < paths_.subtree_end(node); ++i) values_[i] = JsonValue{};
  }

  void SkipSpace() {
    while (p_ < end_ && IsSpace(*p_)) {
      ++p_;
      // Pretty-printed indents: skip the spaces of eight bytes at once.
      while (end_ - p_ >= 8) {
        const uint64_t not_space = Load8(p_) ^ (kOnes * ' ');
        if (not_space != 0) {
          p_ += FirstMarkedByte(not_space);
          break;
        }
        p_ += 8;
      }
    }
  }

  // Consumes `c` after optional whitespace.
  bool Expect(unsigned char c) {
    SkipSpace();
    if (p_ == end_ || *p_ != c) return false;
    ++p_;
    return true;
  }

  // A value at a recorded path. Recursion is bounded by the depth of the path outline; values
  // below paths nobody asked for are skipped by SkipValue, which does not recurse.
  bool ScanTracked(size_t node, int depth) {
    SkipSpace();
    if (p_ == end_) return false;
    JsonValue& value = values_[node];
    switch (*p_) {
      case '{':
        value.type = JsonType::kObject;
        return ScanTrackedObject(node, depth);
      case '[':
        value.type = JsonType::kArray;
        return ScanTrackedArray(node, depth);
      default:
        return ScanScalar(&value);
    }
  }

  bool ScanTrackedObject(size_t node, int depth) {
    if (depth >= kMaxJsonDepth) return false;
    ++p_;  // '{'
    SkipSpace();
    if (p_ < end_ && *p_ == '}') {
      ++p_;
      return true;
    }
    for (;;) {
      SkipSpace();
      JsonValue key;
      if (p_ == end_ || *p_ != '"' || !ScanString(&key) || !Expect(':')) return false;
      const size_t child = FindMember(node, key);
      if (child != 0) {
        Reset(child);  // a repeated key replaces the earlier value
        if (!ScanTracked(child, depth + 1)) return false;
      } else if (!SkipValue(depth + 1)) {
        return false;
      }
      SkipSpace();
      if (p_ == end_) return false;
      if (*p_ == '}') {
        ++p_;
        return true;
      }
      if (*p_ != ',') return false;
      ++p_;
    }
  }

  bool ScanTrackedArray(size_t node, int depth) {
    if (depth >= kMaxJsonDepth) return false;
    ++p_;                // '['
    size_t element = 0;  // the node elements are recorded at; 0 for none
    bool each = false;
    for (size_t c = paths_.first_child(node); c < paths_.subtree_end(node);
         c = paths_.next_sibling(c)) {
      const JsonStep step = paths_.node(c).step;
      if (step == JsonStep::kFirstElement || step == JsonStep::kEachElement) {
        element = c;
        each = step == JsonStep::kEachElement;
      }
    }
    SkipSpace();
    if (p_ < end_ && *p_ == ']') {
      ++p_;
      return true;
    }
    for (size_t index = 0;; ++index) {
      if (element != 0 && (each || index == 0)) {
        Reset(element);
        if (!ScanTracked(element, depth + 1)) return false;
        if (each && hook_ != nullptr) hook_(hook_context_, text_, element, values_);
      } else if (!SkipValue(depth + 1)) {
        return false;
      }
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

  // The child of `node` named by `key`, or 0.
  size_t FindMember(size_t node, const JsonValue& key) {
    std::string_view name = text_.substr(key.offset, key.size);
    std::string unescaped;  // keys with escapes are rare; only they allocate
    if (key.escaped) {
      unescaped = JsonStringOf(text_, key);
      name = unescaped;
    }
    for (const JsonPaths::Member& member : paths_.members(node)) {
      if (member.key.size() == name.size() && member.key[0] == name[0] && member.key == name) {
        return member.node;
      }
    }
    return 0;
  }

  bool SkipValue(int depth) {
    SkipSpace();
    if (p_ == end_) return false;
    if (*p_ != '{' && *p_ != '[') {
      JsonValue scalar;
      return ScanScalar(&scalar);
    }
    return SkipContainer(depth);
  }

  // A container, iteratively: one bit per open container says whether it is an object, so
  // hostile nesting costs no stack beyond this fixed array.
  bool SkipContainer(int depth) {
    std::array<uint64_t, kMaxJsonDepth / 64 + 1> is_object{};
    int level = 0;  // containers open inside this value
    for (;;) {
      SkipSpace();
      if (p_ == end_) return false;
      const unsigned char c = *p_;
      if (c == '{' || c == '[') {
        if (depth + level >= kMaxJsonDepth) return false;
        const uint64_t bit = uint64_t{1} << (level % 64);
        if (c == '{') {
          is_object[level / 64] |= bit;
        } else {
          is_object[level / 64] &= ~bit;
        }
        ++level;
        ++p_;
        SkipSpace();
        if (p_ < end_ && *p_ == (c == '{' ? '}' : ']')) {
          ++p_;
          --level;
        } else {
          if (c == '{' && !ScanKeyAndColon()) return false;
          continue;  // the first member's or element's value
        }
      } else {
        JsonValue scalar;
        if (!ScanScalar(&scalar)) return false;
      }
      // After a value: close what ends here, or go on to the next member or element.
      for (;;) {
        if (level == 0) return true;
        SkipSpace();
        if (p_ == end_) return false;
        const bool in_object = (is_object[(level - 1) / 64] >> ((level - 1) % 64)) & 1;
        if (*p_ == ',') {
          ++p_;
          if (in_object && !ScanKeyAndColon()) return false;
          break;
        }
        if (*p_ != (in_object ? '}' : ']')) return false;
        ++p_;
        --level;
      }
    }
  }

  bool ScanKeyAndColon() {
    SkipSpace();
    JsonValue key;
    return p_ < end_ && *p_ == '"' && ScanString(&key) && Expect(':');
  }

  bool ScanScalar(JsonValue* value) {
    switch (*p_) {
      case '"':
        return ScanString(value);
      case 't':
        value->type = JsonType::kTrue;
        return ScanLiteral("true");
      case 'f':
        value->type = JsonType::kFalse;
        return ScanLiteral("false");
      case 'n':
        value->type = JsonType::kNull;
        return ScanLiteral("null");
      default:
        return ScanNumber(value);
    }
  }

  bool ScanLiteral(std::string_view literal) {
    if (static_cast<size_t>(end_ - p_) < literal.size() ||
        std::memcmp(p_, literal.data(), literal.size()) != 0) {
      return false;
    }
    p_ += literal.size();
    return true;
  }

  bool ScanNumber(JsonValue* value) {
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
    *value = JsonValue{JsonType::kNumber, false, integral, static_cast<size_t>(start - begin_),
                       static_cast<size_t>(p_ - start)};
    // An integer of up to 300 digits is finite as a double too, whichever type nlohmann picks.
    return (integral && value->size <= 300) || FitsDouble(text_.substr(value->offset, value->size));
  }

  // p_ is on the opening quote; validates up to and past the closing one.
  bool ScanString(JsonValue* value) {
    ++p_;
    const unsigned char* start = p_;
    bool escaped = false;
    for (;;) {
      while (end_ - p_ >= 8) {
        const uint64_t special = HasStringSpecial(Load8(p_));
        if (special != 0) {
          p_ += FirstMarkedByte(special);
          break;
        }
        p_ += 8;
      }
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
    *value = JsonValue{JsonType::kString, escaped, false, static_cast<size_t>(start - begin_),
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
  const JsonPaths& paths_;
  JsonValue* values_;
  JsonElementHook hook_;
  void* hook_context_;
};

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

}  // namespace

JsonPaths::JsonPaths(std::vector<JsonPathNode> nodes)
    : nodes_(std::move(nodes)), subtree_end_(nodes_.size()) {
  if (nodes_.empty() || nodes_[0].depth != 0 || nodes_[0].step != JsonStep::kRoot) {
    throw std::logic_error("JsonPaths: node 0 must be the root");
  }
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (i > 0 && (nodes_[i].depth < 1 || nodes_[i].depth > nodes_[i - 1].depth + 1)) {
      throw std::logic_error("JsonPaths: the outline skips a level at node " + std::to_string(i));
    }
    size_t end = i + 1;
    while (end < nodes_.size() && nodes_[end].depth > nodes_[i].depth) ++end;
    subtree_end_[i] = end;
  }
  members_.resize(nodes_.size());
  for (size_t i = 1; i < nodes_.size(); ++i) {
    if (nodes_[i].step != JsonStep::kMember) continue;
    if (nodes_[i].key.empty()) throw std::logic_error("JsonPaths: a member without a key");
    size_t parent = i - 1;
    while (nodes_[parent].depth >= nodes_[i].depth) --parent;
    members_[parent].push_back(Member{nodes_[i].key, i});
  }
}

bool ScanJson(std::string_view text, const JsonPaths& paths, JsonValue* values,
              JsonElementHook hook, void* hook_context) {
  return Scanner(text, paths, values, hook, hook_context).ScanDocument();
}

std::string JsonStringOf(std::string_view text, const JsonValue& value) {
  if (value.type != JsonType::kString) return "";
  const std::string_view raw = text.substr(value.offset, value.size);
  if (!value.escaped) return std::string(raw);
  // The scanner has validated every escape, so this only decodes.
  std::string out;
  out.reserve(raw.size());
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
        uint32_t code_point = static_cast<uint32_t>(CodeUnit(digits));
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
  return out;
}

std::optional<int64_t> JsonIntegerOf(std::string_view text, const JsonValue& value) {
  if (value.type != JsonType::kNumber || !value.integral) return std::nullopt;
  std::string_view digits = text.substr(value.offset, value.size);
  const bool negative = digits.front() == '-';
  if (negative) digits.remove_prefix(1);
  uint64_t magnitude = 0;
  for (const char c : digits) {
    const auto digit = static_cast<uint64_t>(c - '0');
    if (magnitude > (UINT64_MAX - digit) / 10) return std::nullopt;  // nlohmann: a float
    magnitude = magnitude * 10 + digit;
  }
  if (!negative) return static_cast<int64_t>(magnitude);  // wraps above INT64_MAX, as nlohmann
  constexpr uint64_t kInt64MinMagnitude = uint64_t{1} << 63;
  if (magnitude > kInt64MinMagnitude) return std::nullopt;  // nlohmann: a float
  return magnitude == kInt64MinMagnitude ? INT64_MIN : -static_cast<int64_t>(magnitude);
}

}  // namespace paybell::webhooks

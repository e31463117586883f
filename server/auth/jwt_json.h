// Reads the few members JwtVerifier checks out of a token's decoded header or claims in one pass
// and without a DOM, refusing exactly the segments the nlohmann::json parse it replaced refused.
//
// A segment is accepted when it is one JSON object as nlohmann::json::parse (3.11, no comments)
// accepts it (the grammar in detail: server/webhooks/json_scanner.h), no object in it names a
// member twice (after unescaping: "a" and "\u0061" are one name), and nothing is nested deeper
// than the parse callback allowed: a name or value with more than kMaxJwtJsonDepth containers
// open around it is refused (so a ninth-level container must be empty). Work is linear in the
// input but for sorting the names of an object with many; recursion is bounded by the depth.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace paybell::auth {

// Header and claims nest one level at most (act.sub, aud lists); anything much deeper is not a
// token this server issues or accepts.
inline constexpr int kMaxJwtJsonDepth = 8;

enum class JwtJsonType : uint8_t {
  kAbsent,
  kNull,
  kFalse,
  kTrue,
  kNumber,
  kString,
  kObject,
  kArray
};

// A value as it appears in the text: for a string the span between its quotes, for a number its
// token, for a container the span from its opening to its closing bracket.
struct JwtJsonValue {
  JwtJsonType type = JwtJsonType::kAbsent;
  bool escaped = false;   // a string holding a backslash escape
  bool integral = false;  // a number without fraction or exponent
  size_t offset = 0;
  size_t size = 0;

  std::string_view In(std::string_view text) const { return text.substr(offset, size); }
};

// Validates `text` as above and sets values[i] to the top-level member named names[i] (kAbsent
// when there is none). False, with `values` unspecified, for a segment that is refused.
bool ScanJwtObject(std::string_view text, const std::string_view* names, size_t name_count,
                   JwtJsonValue* values);

// The string a kString value holds, unescaped, into `out` (its previous contents replaced).
void JwtJsonString(std::string_view text, const JwtJsonValue& value, std::string& out);

// A kNumber value as nlohmann's get<double>() reads it.
double JwtJsonNumber(std::string_view text, const JwtJsonValue& value);

}  // namespace paybell::auth

// A strict, allocation-free JSON (RFC 8259) validator that records only the values found at a
// fixed set of paths, for reading a few fields out of large documents without building a DOM.
//
// It accepts exactly the documents nlohmann::json::parse (3.11, no comments) accepts, and
// refuses the same ones, with one deliberate exception: nesting deeper than kMaxJsonDepth is
// refused (nlohmann has no limit). In detail:
//  - one value, optionally preceded by a UTF-8 byte order mark (EF BB BF; a lone EF is refused)
//    and surrounded by whitespace (space, tab, LF, CR); anything after it but whitespace is
//    refused, except that a NUL byte ends the document (nlohmann reads NUL as end of input);
//  - strings: no raw control characters (< 0x20); escapes \" \\ \/ \b \f \n \r \t \uXXXX only;
//    a \u high surrogate must be followed by a \u low surrogate and a lone low surrogate is
//    refused; raw bytes must be well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, at
//    most U+10FFFF);
//  - numbers: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? (no leading zeros, '+', '.5');
//    any magnitude is accepted, as nlohmann accepts it (as a float when an integer overflows);
//  - literals true, false, null; no comments, no trailing commas.
// Work is linear in the input; memory is the caller's value array and a fixed-size stack.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace paybell::webhooks {

// Containers nested deeper than this are refused. Stripe's events nest about ten levels.
inline constexpr int kMaxJsonDepth = 512;

enum class JsonType : uint8_t { kAbsent, kNull, kFalse, kTrue, kNumber, kString, kObject, kArray };

// A value as it appears in the text: its type and the span of its token (for a string, between
// the quotes; for a container, only the type is recorded).
struct JsonValue {
  JsonType type = JsonType::kAbsent;
  bool escaped = false;   // a string holding a backslash escape
  bool integral = false;  // a number without fraction or exponent
  size_t offset = 0;
  size_t size = 0;
};

// How a path node is reached from its parent.
enum class JsonStep : uint8_t {
  kRoot,          // the document itself (node 0 only)
  kMember,        // the member named `key` of an object (the last one, if a key repeats)
  kFirstElement,  // element 0 of an array
  kEachElement,   // every element of an array in turn; the scanner's hook runs after each
  kScratch,       // never matched: a slot the hook keeps its result in
};

struct JsonPathNode {
  int depth;  // 0 for the root; a node's children follow it with depth + 1 (an outline)
  JsonStep step;
  std::string_view key;  // kMember only
};

// The paths to record, as an outline in depth-first order. Built once per schema.
class JsonPaths {
 public:
  explicit JsonPaths(std::vector<JsonPathNode> nodes);

  size_t size() const { return nodes_.size(); }
  const JsonPathNode& node(size_t i) const { return nodes_[i]; }
  size_t subtree_end(size_t i) const { return subtree_end_[i]; }  // one past the last descendant
  size_t first_child(size_t i) const { return i + 1; }
  size_t next_sibling(size_t i) const { return subtree_end_[i]; }

  struct Member {
    std::string_view key;
    size_t node;
  };
  // The kMember children of node i, for looking keys up.
  const std::vector<Member>& members(size_t i) const { return members_[i]; }

 private:
  std::vector<JsonPathNode> nodes_;
  std::vector<size_t> subtree_end_;
  std::vector<std::vector<Member>> members_;
};

// Called after each element of a kEachElement node has been scanned (its values are set).
using JsonElementHook = void (*)(void* context, std::string_view text, size_t element_node,
                                 JsonValue* values);

// Validates `text` and fills values[i] with the value at paths.node(i) (kAbsent when the path
// is not in the document, e.g. under a parent of another type). A repeated key replaces the
// earlier value and everything recorded under it, as nlohmann's DOM keeps the last one.
// `values` must hold paths.size() entries. Returns false for text that is not valid JSON.
bool ScanJson(std::string_view text, const JsonPaths& paths, JsonValue* values,
              JsonElementHook hook = nullptr, void* hook_context = nullptr);

// The string a kString value holds, unescaped; "" for any other type.
std::string JsonStringOf(std::string_view text, const JsonValue& value);

// An integer as nlohmann's get<int64_t>() reads one for which is_number_integer() holds: any
// number without fraction or exponent that fits int64_t or uint64_t (a uint64_t above
// INT64_MAX wraps, as nlohmann's static_cast does). Anything else is nullopt.
std::optional<int64_t> JsonIntegerOf(std::string_view text, const JsonValue& value);

}  // namespace paybell::webhooks

// A mustache template parsed once and rendered many times, byte for byte as mstch::render would
// render it: mstch 1.0.2 exposes no parsed form and parses the whole text again on every render.
#pragma once

#include <mstch/mstch.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace paybell::notifications {

// The mustache the notification templates use: text, {{name}} (HTML-escaped as mstch does),
// {{{name}}} and {{&name}}, {{#section}} and {{^inverted}} over booleans, strings, maps and
// arrays, {{! comments }}, and mstch's removal of lines that hold only section tags or comments.
class MustacheTemplate {
 public:
  // Throws common::Error(kInternal) for what it does not render (partials, delimiter changes,
  // dotted names, unbalanced sections), so an unsupported template fails on its first use.
  explicit MustacheTemplate(std::string_view text);

  // Values may be strings, booleans, numbers, maps and arrays; a lambda or object throws
  // common::Error(kInternal). Safe to call from several threads at once.
  std::string Render(const mstch::node& root) const;

  struct Part {
    enum class Kind { kText, kEscaped, kUnescaped, kSection, kInverted };
    Kind kind;
    std::string text;           // kText: the text; otherwise the name
    std::vector<Part> section;  // kSection and kInverted: what they enclose
  };

 private:
  std::vector<Part> parts_;
};

}  // namespace paybell::notifications

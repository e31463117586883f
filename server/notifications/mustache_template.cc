#include "server/notifications/mustache_template.h"

#include <sstream>
#include <utility>

#include "server/common/error.h"

namespace paybell::notifications {
namespace {

using common::Error;
using common::ErrorCode;
using Part = MustacheTemplate::Part;

// The tokens of mstch 1.0.2's tokenizer, with its rules: text is cut after every newline, a tag
// runs from "{{" to the first "}}" after it, and a line holding only section tags, comments and
// whitespace disappears (its whitespace and newline are dropped).
enum class TokenType {
  kText,
  kVariable,
  kUnescaped,
  kSectionOpen,
  kInvertedOpen,
  kClose,
  kComment
};

struct Token {
  TokenType type = TokenType::kText;
  std::string text;      // kText: the text; a tag: its name
  bool eol = false;      // text that ends its line
  bool ws_only = false;  // text of spaces, tabs, CRs and newlines only
};

[[noreturn]] void Unsupported(const std::string& what) {
  throw Error(ErrorCode::kInternal, "mustache template: " + what);
}

Token TextToken(std::string_view text) {
  Token token;
  token.text = std::string(text);
  token.eol = !text.empty() && text.back() == '\n';
  token.ws_only = text.find_first_not_of(" \r\n\t") == std::string_view::npos;
  return token;
}

// mstch trims spaces (not tabs) around a name.
std::string TrimSpaces(std::string_view text) {
  const size_t first = text.find_first_not_of(' ');
  if (first == std::string_view::npos) return "";
  return std::string(text.substr(first, text.find_last_not_of(' ') - first + 1));
}

// `tag` is the whole tag, "{{" and "}}" (or "{{{" and "}}}") included.
Token TagToken(std::string_view tag) {
  if (tag.size() > 4 && tag[2] == '=' && tag[tag.size() - 3] == '=') {
    Unsupported("delimiter changes");
  }
  Token token;
  std::string_view inner = tag.substr(2, tag.size() - 4);
  if (tag.size() >= 6 && tag[2] == '{' && tag[tag.size() - 3] == '}') {
    token.type = TokenType::kUnescaped;
    inner = inner.substr(1, inner.size() - 2);
  } else {
    const size_t sigil = inner.find_first_not_of(' ');
    const char c = sigil == std::string_view::npos ? '\0' : inner[sigil];
    switch (c) {
      case '>':
        Unsupported("partials");
      case '^':
        token.type = TokenType::kInvertedOpen;
        break;
      case '/':
        token.type = TokenType::kClose;
        break;
      case '&':
        token.type = TokenType::kUnescaped;
        break;
      case '#':
        token.type = TokenType::kSectionOpen;
        break;
      case '!':
        token.type = TokenType::kComment;
        break;
      default:
        token.type = TokenType::kVariable;
    }
    if (token.type != TokenType::kVariable) inner = inner.substr(sigil + 1);
  }
  token.text = TrimSpaces(inner);
  if (token.type != TokenType::kComment &&
      (token.text.empty() || token.text.find('.') != std::string::npos)) {
    Unsupported("the name '" + token.text + "' (empty or dotted)");
  }
  return token;
}

void AddText(std::string_view text, std::vector<Token>& tokens) {
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n' || i + 1 == text.size()) {
      tokens.push_back(TextToken(text.substr(start, i + 1 - start)));
      start = i + 1;
    }
  }
}

std::vector<Token> Tokenize(std::string_view text) {
  std::vector<Token> tokens;
  size_t at = 0;
  while (at < text.size()) {
    const size_t open = text.find("{{", at);
    size_t close = open == std::string_view::npos ? open : text.find("}}", open + 1);
    if (open == std::string_view::npos || close == std::string_view::npos) {
      AddText(text.substr(at), tokens);
      break;
    }
    if (text[open + 2] == '{' && close + 2 < text.size() && text[close + 2] == '}') ++close;
    AddText(text.substr(at, open - at), tokens);
    at = close + 2;
    tokens.push_back(TagToken(text.substr(open, at - open)));
    if (at == text.size()) {  // a tag at the very end still ends a line
      tokens.push_back(TextToken(""));
      tokens.back().eol = true;
    }
  }
  return tokens;
}

bool IsTag(TokenType type) {
  return type != TokenType::kText && type != TokenType::kVariable && type != TokenType::kUnescaped;
}

std::vector<Token> DropStandaloneLines(std::vector<Token> tokens) {
  std::vector<Token> kept;
  kept.reserve(tokens.size());
  size_t line_begin = 0;
  bool has_tag = false;
  bool non_space = false;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (IsTag(tokens[i].type)) {
      has_tag = true;
    } else if (tokens[i].type != TokenType::kText || !tokens[i].ws_only) {
      non_space = true;
    }
    if (!tokens[i].eol) continue;
    const bool standalone = has_tag && !non_space;
    for (size_t j = line_begin; j <= i; ++j) {
      if (!(standalone && tokens[j].type == TokenType::kText && tokens[j].ws_only)) {
        kept.push_back(std::move(tokens[j]));
      }
    }
    line_begin = i + 1;
    has_tag = non_space = false;
  }
  for (size_t j = line_begin; j < tokens.size(); ++j) kept.push_back(std::move(tokens[j]));
  return kept;
}

// Builds `out` from tokens[at...] up to the close of `section` (nullptr: the end); returns the
// index after that close.
size_t Build(std::vector<Token>& tokens, size_t at, const std::string* section,
             std::vector<Part>& out) {
  while (at < tokens.size()) {
    Token& token = tokens[at++];
    switch (token.type) {
      case TokenType::kText:
        if (!out.empty() && out.back().kind == Part::Kind::kText) {
          out.back().text += token.text;
        } else {
          out.push_back({Part::Kind::kText, std::move(token.text), {}});
        }
        break;
      case TokenType::kVariable:
        out.push_back({Part::Kind::kEscaped, std::move(token.text), {}});
        break;
      case TokenType::kUnescaped:
        out.push_back({Part::Kind::kUnescaped, std::move(token.text), {}});
        break;
      case TokenType::kSectionOpen:
      case TokenType::kInvertedOpen: {
        Part part{
            token.type == TokenType::kSectionOpen ? Part::Kind::kSection : Part::Kind::kInverted,
            std::move(token.text),
            {}};
        at = Build(tokens, at, &part.text, part.section);
        out.push_back(std::move(part));
        break;
      }
      case TokenType::kClose:
        if (section == nullptr || token.text != *section) {
          Unsupported("{{/" + token.text + "}} closes no open section");
        }
        return at;
      case TokenType::kComment:
        break;
    }
  }
  if (section != nullptr) Unsupported("{{#" + *section + "}} is never closed");
  return at;
}

// mstch's HTML escaping (or mstch::config::escape when a program sets one).
std::string HtmlEscape(const std::string& text) {
  if (mstch::config::escape) return mstch::config::escape(text);
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '\'':
        out += "&#39;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '/':
        out += "&#x2F;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

void RefuseCode(const mstch::node& node) {
  if (boost::get<mstch::lambda>(&node) != nullptr ||
      boost::get<std::shared_ptr<mstch::object>>(&node) != nullptr) {
    Unsupported("lambdas and objects as values");
  }
}

const mstch::node kNull{nullptr};

// The innermost value of that name, as mstch looks it up (missing: null).
const mstch::node& Find(const std::string& name, const std::vector<const mstch::node*>& stack) {
  for (auto it = stack.rbegin(); it != stack.rend(); ++it) {
    RefuseCode(**it);
    if (const auto* map = boost::get<mstch::map>(*it)) {
      const auto found = map->find(name);
      if (found != map->end()) {
        RefuseCode(found->second);
        return found->second;
      }
    }
  }
  return kNull;
}

bool IsEmpty(const mstch::node& node) {
  if (boost::get<std::nullptr_t>(&node) != nullptr) return true;
  if (const auto* b = boost::get<bool>(&node)) return !*b;
  if (const auto* s = boost::get<std::string>(&node)) return s->empty();
  if (const auto* a = boost::get<mstch::array>(&node)) return a->empty();
  if (const auto* i = boost::get<int>(&node)) return *i == 0;
  if (const auto* d = boost::get<double>(&node)) return *d == 0;
  return false;
}

std::string ValueText(const mstch::node& node, bool escape) {
  if (const auto* s = boost::get<std::string>(&node)) return escape ? HtmlEscape(*s) : *s;
  if (const auto* b = boost::get<bool>(&node)) return *b ? "true" : "false";
  if (const auto* i = boost::get<int>(&node)) return std::to_string(*i);
  if (const auto* d = boost::get<double>(&node)) {
    std::ostringstream out;
    out << *d;
    return out.str();
  }
  return "";  // null, maps and arrays render as nothing
}

void RenderParts(const std::vector<Part>& parts, std::vector<const mstch::node*>& stack,
                 std::string& out) {
  for (const Part& part : parts) {
    switch (part.kind) {
      case Part::Kind::kText:
        out += part.text;
        break;
      case Part::Kind::kEscaped:
      case Part::Kind::kUnescaped:
        out += ValueText(Find(part.text, stack), part.kind == Part::Kind::kEscaped);
        break;
      case Part::Kind::kSection: {
        const mstch::node& value = Find(part.text, stack);
        if (IsEmpty(value)) break;
        const auto* items = boost::get<mstch::array>(&value);
        const size_t count = items != nullptr ? items->size() : 1;
        for (size_t i = 0; i < count; ++i) {
          const mstch::node& item = items != nullptr ? (*items)[i] : value;
          RefuseCode(item);
          stack.push_back(&item);
          RenderParts(part.section, stack, out);
          stack.pop_back();
        }
        break;
      }
      case Part::Kind::kInverted:
        if (IsEmpty(Find(part.text, stack))) RenderParts(part.section, stack, out);
        break;
    }
  }
}

}  // namespace

MustacheTemplate::MustacheTemplate(std::string_view text) {
  std::vector<Token> tokens = DropStandaloneLines(Tokenize(text));
  Build(tokens, 0, nullptr, parts_);
}

std::string MustacheTemplate::Render(const mstch::node& root) const {
  std::string out;
  std::vector<const mstch::node*> stack{&root};
  RenderParts(parts_, stack, out);
  return out;
}

}  // namespace paybell::notifications

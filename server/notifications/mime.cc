#include "server/notifications/mime.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <ctime>
#include <random>
#include <vector>

#include "server/common/error.h"

namespace paybell::notifications {

using common::Error;
using common::ErrorCode;

namespace {

constexpr std::string_view kCrlf = "\r\n";
// RFC 5322's recommended line length; RFC 2047 asks 76 for lines holding encoded-words.
constexpr size_t kFoldAt = 76;
// Longest encoded-word RFC 2047 allows, and its fixed part "=?UTF-8?B?" + "?=".
constexpr size_t kMaxEncodedWord = 75;
constexpr std::string_view kWordPrefix = "=?UTF-8?B?";
constexpr size_t kWordOverhead = 12;
// A token longer than this cannot be folded under RFC 5322's hard limit of 998: encode it.
constexpr size_t kLongestPlainToken = 900;

// Headers this builder writes (or that would redirect the message): extra headers may not
// replace them.
constexpr std::array<std::string_view, 13> kReservedHeaders = {
    "date",         "message-id", "from",           "to",
    "cc",           "bcc",        "subject",        "mime-version",
    "content-type", "sender",     "auto-submitted", "content-transfer-encoding",
    "return-path"};

void RefuseLineBreaks(std::string_view what, std::string_view value) {
  if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) {
    throw Error(ErrorCode::kInvalidArgument, std::string(what) + " contains CR, LF or NUL");
  }
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IsPrintableAscii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

std::string Base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t n = static_cast<uint8_t>(in[i]) << 16 | static_cast<uint8_t>(in[i + 1]) << 8 |
                       static_cast<uint8_t>(in[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += kAlphabet[(n >> shift) & 63];
  }
  if (i < in.size()) {
    uint32_t n = static_cast<uint8_t>(in[i]) << 16;
    if (i + 1 < in.size()) n |= static_cast<uint8_t>(in[i + 1]) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// Length of the UTF-8 character starting at s[i]; 1 for a byte that does not start a
// well-formed one, so ill-formed input still splits somewhere.
size_t Utf8CharLength(std::string_view s, size_t i) {
  const auto lead = static_cast<unsigned char>(s[i]);
  size_t n = lead < 0x80           ? 1
             : (lead >> 5) == 0x6  ? 2
             : (lead >> 4) == 0xe  ? 3
             : (lead >> 3) == 0x1e ? 4
                                   : 1;
  if (i + n > s.size()) return 1;
  for (size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return 1;
  }
  return n;
}

// Most bytes whose base64 fits in `chars` characters.
size_t BytesFitting(size_t chars) { return chars / 4 * 3; }

// `value` as encoded-words, the first of at most `first_budget` characters, folded with CRLF SP.
std::string EncodedWords(std::string_view value, size_t first_budget) {
  std::string out;
  size_t budget = std::min(first_budget, kMaxEncodedWord);
  size_t i = 0;
  while (i < value.size()) {
    const size_t max_bytes = BytesFitting(budget - kWordOverhead);
    size_t end = i;
    while (end < value.size()) {
      const size_t n = Utf8CharLength(value, end);
      if (end + n - i > max_bytes) break;
      end += n;
    }
    if (end == i) end = i + Utf8CharLength(value, i);  // only when the budget is absurdly small
    if (!out.empty()) out += "\r\n ";
    out += kWordPrefix;
    out += Base64(value.substr(i, end - i));
    out += "?=";
    i = end;
    budget = kMaxEncodedWord;  // continuation lines start with one space: 1 + 75 = 76
  }
  return out;
}

// Printable ASCII folded at spaces so lines stay near kFoldAt characters.
std::string FoldPlain(std::string_view value, size_t used) {
  std::string out;
  size_t line = used;
  size_t i = 0;
  while (i < value.size()) {
    size_t next = value.find(' ', i + 1);
    if (next == std::string_view::npos) next = value.size();
    const std::string_view token = value.substr(i, next - i);  // leading space included
    // Fold only before a space followed by text: a folded line of whitespace alone is invalid.
    if (line + token.size() > kFoldAt && !out.empty() && token.size() > 1) {
      out += kCrlf;  // the token's own space becomes the folding whitespace
      line = 0;
    }
    out += token;
    line += token.size();
    i = next;
  }
  return out;
}

bool NeedsEncoding(std::string_view value) {
  if (!IsPrintableAscii(value) || value.find("=?") != std::string_view::npos) return true;
  size_t start = 0;
  while (start < value.size()) {
    size_t space = value.find(' ', start);
    if (space == std::string_view::npos) space = value.size();
    if (space - start > kLongestPlainToken) return true;
    start = space + 1;
  }
  return false;
}

void CheckHeaderName(std::string_view name) {
  RefuseLineBreaks("header name", name);
  if (name.empty() || !std::all_of(name.begin(), name.end(),
                                   [](char c) { return c > 0x20 && c < 0x7f && c != ':'; })) {
    throw Error(ErrorCode::kInvalidArgument, "header name is not printable ASCII without ':'");
  }
}

bool IsAtext(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-/=?^_`{|}~.").find(c) != std::string_view::npos;
}

struct Mailbox {
  std::string display;  // may be empty
  std::string address;
};

std::string Trim(std::string_view s) {
  const size_t b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return "";
  const size_t e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

Mailbox ParseMailbox(std::string_view text) {
  RefuseLineBreaks("address", text);
  Mailbox box;
  const std::string trimmed = Trim(text);
  const size_t open = trimmed.rfind('<');
  if (open == std::string::npos) {
    box.address = trimmed;
  } else {
    if (trimmed.back() != '>') {
      throw Error(ErrorCode::kInvalidArgument, "address has text after its closing '>'");
    }
    box.address = trimmed.substr(open + 1, trimmed.size() - open - 2);
    box.display = Trim(trimmed.substr(0, open));
    if (box.display.size() >= 2 && box.display.front() == '"' && box.display.back() == '"') {
      std::string unquoted;
      for (size_t i = 1; i + 1 < box.display.size(); ++i) {
        if (box.display[i] == '\\' && i + 2 < box.display.size()) ++i;
        unquoted += box.display[i];
      }
      box.display = unquoted;
    }
  }
  const size_t at = box.address.find('@');
  const bool ok = at != std::string::npos && at > 0 && at + 1 < box.address.size() &&
                  box.address.find('@', at + 1) == std::string::npos &&
                  std::all_of(box.address.begin(), box.address.begin() + at, IsAtext) &&
                  std::all_of(box.address.begin() + at + 1, box.address.end(), [](char c) {
                    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
                  });
  if (!ok) throw Error(ErrorCode::kInvalidArgument, "not a plain email address");
  return box;
}

// The From value: display names in plain ASCII are quoted when they hold specials, others
// become encoded-words; the address itself is never encoded.
std::string MailboxHeaderValue(const Mailbox& box, size_t used) {
  if (box.display.empty()) return box.address;
  const std::string angle = "<" + box.address + ">";
  if (!IsPrintableAscii(box.display) || box.display.find("=?") != std::string::npos) {
    return EncodedWords(box.display, kFoldAt - used) + "\r\n " + angle;
  }
  const bool atoms_only = std::all_of(box.display.begin(), box.display.end(),
                                      [](char c) { return c == ' ' || (IsAtext(c) && c != '.'); });
  if (atoms_only) return box.display + " " + angle;
  std::string quoted = "\"";
  for (char c : box.display) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted + "\" " + angle;
}

std::string RandomHex(size_t bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  thread_local std::mt19937_64 generator{std::random_device{}()};
  std::string out;
  for (size_t i = 0; i < bytes; ++i) {
    const auto b = static_cast<uint8_t>(generator());
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

}  // namespace

std::string AddressSpec(std::string_view mailbox) { return ParseMailbox(mailbox).address; }

std::string Rfc5322Date(std::chrono::system_clock::time_point time) {
  static constexpr std::array<const char*, 7> kDays = {"Sun", "Mon", "Tue", "Wed",
                                                       "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t t = std::chrono::system_clock::to_time_t(time);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", kDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

std::string HeaderField(std::string_view name, std::string_view value) {
  CheckHeaderName(name);
  RefuseLineBreaks("header value", value);
  std::string out(name);
  out += ": ";
  const size_t used = out.size();
  if (!NeedsEncoding(value)) {
    out += FoldPlain(value, used);
  } else if (used + kWordOverhead + 4 > kFoldAt) {
    out += "\r\n " + EncodedWords(value, kMaxEncodedWord);  // a very long name: start below it
  } else {
    out += EncodedWords(value, kFoldAt - used);
  }
  return out;
}

std::string QuotedPrintable(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    const bool last_line = end == std::string_view::npos;
    if (last_line) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (start > 0) out += kCrlf;
    size_t width = 0;
    for (size_t i = 0; i < line.size(); ++i) {
      const auto c = static_cast<unsigned char>(line[i]);
      const bool at_end = i + 1 == line.size();
      std::string token;
      if ((c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !at_end)) {
        token = static_cast<char>(c);
      } else {
        token = {'=', kHex[c >> 4], kHex[c & 15]};
      }
      // Room for the soft break's '=' unless this is the line's last token.
      if (width + token.size() > (at_end ? 76 : 75)) {
        out += "=\r\n";
        width = 0;
      }
      out += token;
      width += token.size();
    }
    if (last_line) break;
    start = end + 1;
  }
  return out;
}

std::string BuildMimeMessage(const EmailMessage& message,
                             std::chrono::system_clock::time_point now) {
  if (message.to.empty()) throw Error(ErrorCode::kInvalidArgument, "email has no recipient");
  const Mailbox from = ParseMailbox(message.from);
  std::string to;
  for (const auto& recipient : message.to) {
    if (!to.empty()) to += ", ";
    to += ParseMailbox(recipient).address;
  }
  for (const auto& [name, value] : message.headers) {
    CheckHeaderName(name);
    const std::string lower = Lower(name);
    if (std::find(kReservedHeaders.begin(), kReservedHeaders.end(), lower) !=
        kReservedHeaders.end()) {
      throw Error(ErrorCode::kInvalidArgument, "extra header " + lower + " is reserved");
    }
  }
  const std::string domain = from.address.substr(from.address.find('@') + 1);
  const std::string boundary = "=_paybell_" + RandomHex(16);

  std::string out;
  auto add = [&out](std::string_view name, std::string_view value) {
    out += HeaderField(name, value);
    out += kCrlf;
  };
  add("Date", Rfc5322Date(now));
  add("Message-ID", "<" + RandomHex(16) + "@" + domain + ">");
  out += "From: " + MailboxHeaderValue(from, 6);
  out += kCrlf;
  add("To", to);
  add("Subject", message.subject);
  add("MIME-Version", "1.0");
  add("Auto-Submitted", "auto-generated");
  for (const auto& [name, value] : message.headers) add(name, value);
  add("Content-Type", "multipart/alternative; boundary=\"" + boundary + "\"");
  out += kCrlf;
  auto part = [&](std::string_view type, std::string_view body) {
    out += "--" + boundary + "\r\n";
    out += "Content-Type: " + std::string(type) + "; charset=UTF-8\r\n";
    out += "Content-Transfer-Encoding: quoted-printable\r\n\r\n";
    out += QuotedPrintable(body);
    out += kCrlf;
  };
  part("text/plain", message.text);
  part("text/html", message.html);
  out += "--" + boundary + "--\r\n";
  return out;
}

}  // namespace paybell::notifications

// A small URL parser for configuration values (DATABASE_URL, STRIPE_API_BASE, APP_URL, SMTP_URL).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace paybell::common {

struct Url {
  std::string scheme;    // lowercased
  std::string user;      // percent-decoded
  std::string password;  // percent-decoded
  bool has_password = false;
  std::string host;  // without brackets for IPv6 literals; lowercased
  std::optional<int> port;
  std::string path;  // percent-decoded, starts with '/' when present
  std::vector<std::pair<std::string, std::string>> query;  // percent-decoded
};

// Parses scheme://[user[:password]@]host[:port][/path][?query]. nullopt when malformed
// (no scheme, bad port, bad percent-escape, control characters).
std::optional<Url> ParseUrl(std::string_view text);

// Decodes %XX escapes; nullopt on a malformed escape.
std::optional<std::string> PercentDecode(std::string_view text);

// True only for hosts that cannot leave this machine: "localhost" (any case), a canonical IPv4
// literal in 127.0.0.0/8, and ::1 in any spelling (also bracketed, or IPv4-mapped
// ::ffff:127.x.y.z). Names that merely start like one ("127.evil.example", "localhost.evil.com")
// and shorthands ("127.1") are refused: guards that keep secrets off plaintext http rely on it.
bool IsLoopbackHost(std::string_view host);

}  // namespace paybell::common

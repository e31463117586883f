#include "server/notifications/slack_url.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <optional>

#include "server/common/error.h"
#include "server/common/ip_ranges.h"

namespace paybell::notifications {
namespace {

using common::Error;
using common::ErrorCode;

constexpr size_t kMaxUrlLength = 2048;
constexpr std::string_view kField = "slack_webhook_url ";

[[noreturn]] void Invalid(const std::string& what) {
  throw Error(ErrorCode::kInvalidArgument, std::string(kField) + what);
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::optional<std::string> CanonicalIpv6(const std::string& text) {
  in6_addr v6{};
  if (inet_pton(AF_INET6, text.c_str(), &v6) != 1) return std::nullopt;
  char buffer[INET6_ADDRSTRLEN] = {};
  if (inet_ntop(AF_INET6, &v6, buffer, sizeof buffer) == nullptr) return std::nullopt;
  return std::string(buffer);
}

// Both sides compared in one spelling: config hosts are lower case, IPv6 without brackets.
bool SameHost(const std::string& listed, std::string_view host) {
  if (listed == host) return true;
  const auto a = CanonicalIpv6(listed);
  const auto b = CanonicalIpv6(std::string(host));
  return a && b && *a == *b;
}

bool ListedExactly(const std::vector<common::HostPort>& allowed, std::string_view host, int port) {
  for (const auto& entry : allowed) {
    if (entry.port == port && SameHost(entry.host, host)) return true;
  }
  return false;
}

bool Listed(const std::vector<common::HostPort>& allowed, std::string_view host, int port) {
  for (const auto& entry : allowed) {
    if ((!entry.port || *entry.port == port) && SameHost(entry.host, host)) return true;
  }
  return false;
}

bool IsLocalhostName(std::string_view host) {
  constexpr std::string_view kSuffix = ".localhost";
  return host == "localhost" ||
         (host.size() > kSuffix.size() && host.substr(host.size() - kSuffix.size()) == kSuffix);
}

void CheckDnsName(const std::string& host) {
  if (host.size() > 253) Invalid("host is too long");
  size_t start = 0;
  std::string_view last_label;
  while (true) {
    const size_t dot = host.find('.', start);
    const std::string_view label = std::string_view(host).substr(
        start, dot == std::string::npos ? std::string::npos : dot - start);
    if (label.empty()) Invalid("host must not have empty labels or a trailing dot");
    if (label.size() > 63) Invalid("host has a label longer than 63 characters");
    for (char c : label) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
      if (!ok) Invalid("host must be a DNS name or an IP address");
    }
    if (label.front() == '-' || label.back() == '-') {
      Invalid("host labels must not start or end with '-'");
    }
    last_label = label;
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  bool all_digits = true;
  for (char c : last_label) all_digits = all_digits && c >= '0' && c <= '9';
  if (all_digits) Invalid("host must be a DNS name or a dotted-quad IPv4 address");
}

std::optional<int> ParsePort(std::string_view text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  int port = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    port = port * 10 + (c - '0');
  }
  if (port < 1 || port > 65535) return std::nullopt;
  return port;
}

}  // namespace

SlackWebhookTarget CheckSlackWebhookUrl(std::string_view url,
                                        const std::vector<common::HostPort>& allowed_hosts) {
  if (url.size() > kMaxUrlLength) Invalid("must be at most 2048 bytes");
  for (unsigned char c : url) {
    if (c <= 0x20 || c >= 0x7f) Invalid("must be printable ASCII without spaces");
  }
  if (url.find('\\') != std::string_view::npos) Invalid("must not contain backslashes");
  if (url.find('#') != std::string_view::npos) Invalid("must not contain a fragment");
  constexpr std::string_view kScheme = "https://";
  if (url.size() < kScheme.size() || Lower(url.substr(0, kScheme.size())) != kScheme) {
    Invalid("must be an https URL");
  }
  const std::string_view rest = url.substr(kScheme.size());
  const size_t authority_end = rest.find_first_of("/?");
  const std::string_view authority = rest.substr(0, authority_end);
  const std::string_view tail =
      authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  if (authority.find('@') != std::string_view::npos) Invalid("must not contain user info");
  if (authority.find('%') != std::string_view::npos) {
    Invalid("host must not be percent-encoded");
  }

  SlackWebhookTarget target;
  std::string_view port_text;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) Invalid("has an unclosed IPv6 bracket");
    const auto canonical = CanonicalIpv6(std::string(authority.substr(1, close - 1)));
    if (!canonical) Invalid("host is not a valid IPv6 address");
    target.host = *canonical;
    target.host_is_ip_literal = true;
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') Invalid("has characters after the IPv6 address");
      port_text = after.substr(1);
      has_port = true;
    }
  } else {
    const size_t colon = authority.find(':');
    std::string_view host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      has_port = true;
    }
    if (host.empty()) Invalid("must name a host");
    target.host = Lower(host);
    in_addr v4{};
    if (inet_pton(AF_INET, target.host.c_str(), &v4) == 1) {
      target.host_is_ip_literal = true;
    } else if (inet_aton(target.host.c_str(), &v4) != 0) {
      // Resolvers read "2130706433", "0x7f.1" or "0177.0.0.1" as IPv4 addresses.
      Invalid("host must be a DNS name or a dotted-quad IPv4 address");
    } else {
      CheckDnsName(target.host);
    }
  }
  if (has_port) {
    const auto port = ParsePort(port_text);
    if (!port) Invalid("has an invalid port");
    target.port = *port;
  }

  if (!Listed(allowed_hosts, target.host, target.port)) {
    std::string listed;
    for (const auto& entry : allowed_hosts) {
      if (!listed.empty()) listed += ", ";
      listed += entry.host;
      if (entry.port) listed += ":" + std::to_string(*entry.port);
    }
    Invalid("host must be one of SLACK_ALLOWED_HOSTS (" + listed + ")");
  }
  const bool restricted = target.host_is_ip_literal ? common::IsRestrictedAddress(target.host)
                                                    : IsLocalhostName(target.host);
  if (restricted && !ListedExactly(allowed_hosts, target.host, target.port)) {
    Invalid(
        "points to a loopback, private or link-local address; allowed only when "
        "SLACK_ALLOWED_HOSTS lists that exact host:port");
  }

  const bool bracket = target.host.find(':') != std::string::npos;
  target.url = std::string(kScheme) + (bracket ? "[" + target.host + "]" : target.host) +
               (has_port ? ":" + std::to_string(target.port) : "") + std::string(tail);
  return target;
}

bool MayConnectTo(const std::vector<common::HostPort>& allowed_hosts, std::string_view host,
                  int port, std::string_view resolved_ip) {
  return !common::IsRestrictedAddress(resolved_ip) || ListedExactly(allowed_hosts, host, port);
}

std::string MaskSlackUrl(std::string_view url) {
  if (url.empty()) return "";
  const size_t scheme_end = url.find("://");
  std::string_view rest = scheme_end == std::string_view::npos ? url : url.substr(scheme_end + 3);
  const size_t authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  // Stored URLs never carry user info; should one ever, it is not shown.
  const size_t at = authority.rfind('@');
  if (at != std::string_view::npos) authority = authority.substr(at + 1);
  const std::string_view path =
      authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  constexpr std::string_view kSlackPath = "/services/T";
  const bool slack_shape = path.substr(0, kSlackPath.size()) == kSlackPath;
  return "https://" + std::string(authority) +
         (slack_shape ? "/services/T\u2026/\u2026/****" : "/\u2026/****");
}

}  // namespace paybell::notifications

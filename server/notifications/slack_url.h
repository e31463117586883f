// The SSRF guard for tenants' Slack incoming-webhook URLs, shared by UpdateSettings (the URL
// as written) and the Slack sender (the address a name resolved to), and the masked form
// GetSettings shows.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "server/common/config.h"

namespace paybell::notifications {

struct SlackWebhookTarget {
  std::string url;   // normalised: scheme and host lower case, IPv6 canonical, rest as given
  std::string host;  // lower case; an IPv6 literal without brackets, canonical
  int port = 443;    // the explicit port, else 443
  bool host_is_ip_literal = false;
};

// Checks a webhook URL against SLACK_ALLOWED_HOSTS. Throws common::Error(kInvalidArgument,
// "slack_webhook_url …") unless all of these hold:
//   - at most 2048 bytes of printable ASCII, no backslash, no fragment;
//   - scheme https (any case), no user info (no "@" before the path), no "%" in the host;
//   - the host is a DNS name (labels of a-z 0-9 "-", no empty label, so no trailing dot, the
//     last label not all digits) or a canonical literal: a dotted quad without leading zeros or
//     a bracketed IPv6 address without zone id. Spellings that resolvers read as IPv4
//     ("2130706433", "0x7f000001", "0177.0.0.1", "127.1") are refused;
//   - the host is listed: an entry without port allows any port, an entry with a port only
//     that port (443 when the URL has none);
//   - a host in a restricted range (common::IsRestrictedAddress) or named "localhost" or
//     "*.localhost" only when an entry lists exactly that host and port.
SlackWebhookTarget CheckSlackWebhookUrl(std::string_view url,
                                        const std::vector<common::HostPort>& allowed_hosts);

// For the sender after DNS resolution: may a connection for `host`:`port` (as checked above)
// go to `resolved_ip`? Yes for a public address, and for a restricted one only when
// SLACK_ALLOWED_HOSTS lists exactly host:port.
bool MayConnectTo(const std::vector<common::HostPort>& allowed_hosts, std::string_view host,
                  int port, std::string_view resolved_ip);

// What GetSettings shows instead of the URL; never any part of the secret path:
//   ""                                              for no URL;
//   "https://{host[:port]}/services/T…/…/****"      when the path starts with "/services/T"
//                                                   (Slack's shape: both words are constants);
//   "https://{host[:port]}/…/****"                  otherwise.
// ("…" is U+2026.) No valid URL equals a mask, so an update carrying it means "keep".
std::string MaskSlackUrl(std::string_view url);

}  // namespace paybell::notifications

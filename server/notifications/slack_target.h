// Where a Slack POST may go: the tenant's URL checked against SLACK_ALLOWED_HOSTS at send time
// and its host resolved once, so the connection can be pinned to an address that passed.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/common/config.h"
#include "server/notifications/delivery.h"

namespace paybell::notifications {

// The IP literals `host` resolves to for `port`; empty when it does not resolve.
using HostResolver = std::function<std::vector<std::string>(const std::string& host, int port)>;

// getaddrinfo (TCP, IPv4 and IPv6), as IP literals without brackets, duplicates removed.
std::vector<std::string> ResolveWithGetaddrinfo(const std::string& host, int port);

struct SlackTarget {
  std::string url;   // the URL as libcurl parsed and normalised it: what libcurl is given
  std::string host;  // lowercase, IPv6 without brackets
  int port = 443;
  std::string address;  // the IP literal the connection is pinned to
  // "host:port:address" for CURLOPT_RESOLVE; empty when the host is itself an IP literal.
  std::string resolve_entry;
};

struct SlackTargetCheck {
  std::optional<SlackTarget> target;  // set when the URL may be posted to
  DeliveryResult refusal;             // otherwise why not; never names the URL
};

// Parses `url` with libcurl's own parser (so the host checked is the host libcurl connects
// to), then: https only, no userinfo, host (and port) in `allowed`, every resolved address
// public unless that exact host:port is listed. Refusals of the URL itself are permanent with
// slack_url_broken; a host that does not resolve (DNS trouble) is a retry.
SlackTargetCheck CheckSlackTarget(std::string_view url,
                                  const std::vector<common::HostPort>& allowed,
                                  const HostResolver& resolve);

}  // namespace paybell::notifications

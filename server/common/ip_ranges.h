// Address ranges an outbound request on a tenant's behalf must not reach unless an operator
// listed the exact host:port (SSRF guard for Slack webhooks, at settings time and at send time).
#pragma once

#include <string_view>

namespace paybell::common {

// True when `ip_literal` (an IPv4 dotted quad or an IPv6 literal, optionally in brackets) is
// in a range that is not the public internet:
//   IPv4: 0.0.0.0/8 (this network; 0.0.0.0 reaches local services), 127.0.0.0/8 (loopback),
//         10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 (private), 169.254.0.0/16 (link-local,
//         cloud metadata), 100.64.0.0/10 (CGNAT), 224.0.0.0/4 (multicast), 240.0.0.0/4
//         (reserved, includes 255.255.255.255).
//   IPv6: :: and ::1, fc00::/7 (unique local), fe80::/10 (link-local), fec0::/10 (old
//         site-local), ff00::/8 (multicast), and every form that embeds an IPv4 address
//         judged by the IPv4 rules: IPv4-mapped ::ffff:0:0/96, IPv4-compatible ::/96,
//         NAT64 64:ff9b::/96 and 6to4 2002::/16.
// Anything that is not a canonical literal (a name, "127.1", "2130706433", "0x7f.1", a zone
// id such as "fe80::1%eth0", an empty string) also answers true: callers pass addresses they
// resolved, and whatever cannot be judged is refused.
bool IsRestrictedAddress(std::string_view ip_literal);

}  // namespace paybell::common

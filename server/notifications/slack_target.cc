#include "server/notifications/slack_target.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <memory>

namespace paybell::notifications {

namespace {

// TODO(issue 9): replace with paybell::common::IsRestrictedAddress from
// server/common/ip_ranges.h (branch issue9-rules) when it lands; this private copy only
// exists until then.
// True for an address that is not on the public internet: loopback, private (10/8,
// 172.16/12, 192.168/16, 100.64/10), link-local, "this network", multicast, reserved, and
// their IPv6 counterparts (::1, ::, fc00::/7, fe80::/10, fec0::/10, ff00::/8), including IPv4
// addresses embedded in IPv6 (mapped, compatible, NAT64, 6to4). Anything that is not an IP
// literal counts as restricted.
bool IsRestrictedV4(const uint8_t* a) {
  return a[0] == 0 || a[0] == 10 || a[0] == 127 || (a[0] == 100 && (a[1] & 0xc0) == 64) ||
         (a[0] == 169 && a[1] == 254) || (a[0] == 172 && (a[1] & 0xf0) == 16) ||
         (a[0] == 192 && a[1] == 168) || (a[0] == 192 && a[1] == 0 && a[2] == 0) ||
         (a[0] == 198 && (a[1] & 0xfe) == 18) || a[0] >= 224;
}

bool IsRestrictedAddress(std::string_view ip_literal) {
  const std::string text(ip_literal);
  std::array<uint8_t, 16> a{};
  if (inet_pton(AF_INET, text.c_str(), a.data()) == 1) return IsRestrictedV4(a.data());
  if (inet_pton(AF_INET6, text.c_str(), a.data()) != 1) return true;  // zone ids included
  const auto zero = [&](size_t from, size_t to) {
    return std::all_of(a.begin() + from, a.begin() + to, [](uint8_t b) { return b == 0; });
  };
  if (zero(0, 10) && a[10] == 0xff && a[11] == 0xff) return IsRestrictedV4(&a[12]);  // mapped
  if (zero(0, 12)) return true;  // ::, ::1 and the deprecated IPv4-compatible ::a.b.c.d
  if (a[0] == 0x00 && a[1] == 0x64 && a[2] == 0xff && a[3] == 0x9b && zero(4, 12)) {
    return IsRestrictedV4(&a[12]);  // NAT64 64:ff9b::/96
  }
  if (a[0] == 0x20 && a[1] == 0x02) return IsRestrictedV4(&a[2]);  // 6to4
  return (a[0] & 0xfe) == 0xfc || (a[0] == 0xfe && (a[1] & 0x80) == 0x80) || a[0] == 0xff;
}

DeliveryResult Refused(std::string error, bool broken = true) {
  DeliveryResult result;
  result.kind = broken ? DeliveryResult::Kind::kPermanent : DeliveryResult::Kind::kRetry;
  result.error = std::move(error);
  result.slack_url_broken = broken;
  return result;
}

struct CurlUrlDeleter {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};

std::optional<std::string> UrlPart(CURLU* url, CURLUPart part, unsigned int flags = 0) {
  char* value = nullptr;
  if (curl_url_get(url, part, &value, flags) != CURLUE_OK || value == nullptr) return std::nullopt;
  std::string out(value);
  curl_free(value);
  return out;
}

}  // namespace

std::vector<std::string> ResolveWithGetaddrinfo(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0) return {};
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> guard(found, freeaddrinfo);
  std::vector<std::string> out;
  for (const addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    const void* addr = nullptr;
    if (ai->ai_family == AF_INET) {
      addr = &reinterpret_cast<const sockaddr_in*>(ai->ai_addr)->sin_addr;
    } else if (ai->ai_family == AF_INET6) {
      addr = &reinterpret_cast<const sockaddr_in6*>(ai->ai_addr)->sin6_addr;
    } else {
      continue;
    }
    if (inet_ntop(ai->ai_family, addr, text, sizeof text) == nullptr) continue;
    if (std::find(out.begin(), out.end(), text) == out.end()) out.emplace_back(text);
  }
  return out;
}

SlackTargetCheck CheckSlackTarget(std::string_view url,
                                  const std::vector<common::HostPort>& allowed,
                                  const HostResolver& resolve) {
  SlackTargetCheck check;
  std::unique_ptr<CURLU, CurlUrlDeleter> parsed(curl_url());
  const std::string text(url);
  if (!parsed || curl_url_set(parsed.get(), CURLUPART_URL, text.c_str(), 0) != CURLUE_OK) {
    check.refusal = Refused("slack URL refused: not a URL");
    return check;
  }
  const auto scheme = UrlPart(parsed.get(), CURLUPART_SCHEME);
  if (!scheme || *scheme != "https") {
    check.refusal = Refused("slack URL refused: not https");
    return check;
  }
  if (UrlPart(parsed.get(), CURLUPART_USER) || UrlPart(parsed.get(), CURLUPART_PASSWORD) ||
      UrlPart(parsed.get(), CURLUPART_OPTIONS)) {
    check.refusal = Refused("slack URL refused: it carries user information");
    return check;
  }
  auto host = UrlPart(parsed.get(), CURLUPART_HOST);
  const auto port_text = UrlPart(parsed.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT);
  if (!host || host->empty() || !port_text || UrlPart(parsed.get(), CURLUPART_ZONEID)) {
    check.refusal = Refused("slack URL refused: no usable host");
    return check;
  }
  std::transform(host->begin(), host->end(), host->begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  // The URL libcurl gets carries the lowercased host too, so it is the very name the
  // CURLOPT_RESOLVE entry pins.
  if (curl_url_set(parsed.get(), CURLUPART_HOST, host->c_str(), 0) != CURLUE_OK) {
    check.refusal = Refused("slack URL refused: no usable host");
    return check;
  }
  const auto full = UrlPart(parsed.get(), CURLUPART_URL);
  if (!full) {
    check.refusal = Refused("slack URL refused: not a URL");
    return check;
  }
  const bool bracketed = host->size() > 2 && host->front() == '[' && host->back() == ']';
  if (bracketed) *host = host->substr(1, host->size() - 2);
  const int port = std::stoi(*port_text);

  bool host_allowed = false;
  bool listed_exactly = false;
  for (const auto& entry : allowed) {
    if (entry.host != *host) continue;
    if (!entry.port || *entry.port == port) host_allowed = true;
    if (entry.port && *entry.port == port) listed_exactly = true;
  }
  if (!host_allowed) {
    check.refusal = Refused("slack URL refused: host not in SLACK_ALLOWED_HOSTS");
    return check;
  }

  in6_addr scratch{};
  const bool literal = inet_pton(AF_INET, host->c_str(), &scratch) == 1 ||
                       inet_pton(AF_INET6, host->c_str(), &scratch) == 1;
  const std::vector<std::string> addresses =
      literal ? std::vector<std::string>{*host} : resolve(*host, port);
  if (addresses.empty()) {
    check.refusal = Refused("slack host does not resolve", /*broken=*/false);
    return check;
  }
  // One private answer among public ones refuses the lot: a name that can point inward is
  // not a Slack endpoint, whichever address this lookup happened to put first.
  for (const auto& address : addresses) {
    if (IsRestrictedAddress(address) && !listed_exactly) {
      check.refusal =
          Refused("slack URL refused: host resolves to a loopback, private or link-local address");
      return check;
    }
  }
  SlackTarget target;
  target.url = *full;
  target.host = *host;
  target.port = port;
  target.address = addresses.front();
  if (!literal) {
    const bool v6 = target.address.find(':') != std::string::npos;
    target.resolve_entry = target.host + ":" + std::to_string(port) + ":" +
                           (v6 ? "[" + target.address + "]" : target.address);
  }
  check.target = std::move(target);
  return check;
}

}  // namespace paybell::notifications

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

#include "server/common/error.h"
#include "server/notifications/slack_url.h"

namespace paybell::notifications {

namespace {

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
  // The rules UpdateSettings applied when the URL was saved, applied again: the allowed hosts
  // may have changed since, and there is one definition of an acceptable URL.
  SlackWebhookTarget checked;
  try {
    checked = CheckSlackWebhookUrl(url, allowed);
  } catch (const common::Error& e) {
    check.refusal = Refused(std::string("slack URL refused: ") + e.what());
    return check;
  }
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

  // libcurl must connect to the host that was checked.
  if (*host != checked.host || port != checked.port) {
    check.refusal = Refused("slack URL refused: its host is ambiguous");
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
    if (!MayConnectTo(allowed, *host, port, address)) {
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

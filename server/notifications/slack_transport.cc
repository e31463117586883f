#include "server/notifications/slack_transport.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cctype>
#include <cstring>
#include <optional>

#include "server/notifications/classification.h"
#include "server/notifications/curl_easy.h"

namespace paybell::notifications {

namespace {

// Slack answers "ok" or a short error word; anything longer is not worth keeping.
constexpr size_t kMaxResponseBody = 64 * 1024;

struct Exchange {
  std::string body;
  std::optional<std::string> retry_after;
  std::string pinned_address;  // the only address a socket may connect to
  bool refused_other_address = false;
};

size_t KeepBody(char* data, size_t size, size_t count, void* out) {
  auto* exchange = static_cast<Exchange*>(out);
  const size_t n = size * count;
  if (exchange->body.size() < kMaxResponseBody) {
    exchange->body.append(data, std::min(n, kMaxResponseBody - exchange->body.size()));
  }
  return n;
}

size_t KeepRetryAfter(char* data, size_t size, size_t count, void* out) {
  const size_t n = size * count;
  constexpr std::string_view kName = "retry-after:";
  if (n > kName.size()) {
    std::string lower(data, kName.size());
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == kName) {
      static_cast<Exchange*>(out)->retry_after = std::string(data + kName.size(), n - kName.size());
    }
  }
  return n;
}

// The pin's second half: CURLOPT_RESOLVE tells libcurl where the host is; this refuses any
// socket to anywhere else, so no path through libcurl (a cache miss, a name it resolved
// itself) can reach an address that was not checked.
curl_socket_t OpenPinnedSocket(void* data, curlsocktype purpose, curl_sockaddr* address) {
  auto* exchange = static_cast<Exchange*>(data);
  char text[INET6_ADDRSTRLEN] = {};
  const void* raw = nullptr;
  if (address->family == AF_INET) {
    raw = &reinterpret_cast<const sockaddr_in*>(&address->addr)->sin_addr;
  } else if (address->family == AF_INET6) {
    raw = &reinterpret_cast<const sockaddr_in6*>(&address->addr)->sin6_addr;
  }
  if (purpose != CURLSOCKTYPE_IPCXN || raw == nullptr ||
      inet_ntop(address->family, raw, text, sizeof text) == nullptr ||
      exchange->pinned_address != text) {
    exchange->refused_other_address = true;
    return CURL_SOCKET_BAD;
  }
  return socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

}  // namespace

SlackWebhookTransport::SlackWebhookTransport(SlackTransportOptions options)
    : options_(std::move(options)), cas_(options_.ca_file) {
  if (!options_.resolver) options_.resolver = ResolveWithGetaddrinfo;
}

DeliveryResult SlackWebhookTransport::Post(const std::string& url, const std::string& json) {
  SlackTargetCheck check = CheckSlackTarget(url, options_.allowed_hosts, options_.resolver);
  if (!check.target) return check.refusal;
  const SlackTarget& target = *check.target;

  PooledCurl curl(handles_);
  if (!curl) return SlackNetworkFailure("curl_easy_init failed");
  // A connection this handle keeps was pinned to the address checked when it was opened. When
  // this check pinned host:port elsewhere (the name moved), none of them may carry this post.
  const std::string pin_key = target.host + ":" + std::to_string(target.port);
  const auto pinned = curl.handle().pins.find(pin_key);
  if (pinned != curl.handle().pins.end() && pinned->second != target.address) {
    curl.Renew();
    if (!curl) return SlackNetworkFailure("curl_easy_init failed");
  }
  curl.handle().pins[pin_key] = target.address;
  CURL* c = curl.get();
  Exchange exchange;
  exchange.pinned_address = target.address;
  CurlSlist resolve;
  if (!target.resolve_entry.empty()) {
    resolve.reset(curl_slist_append(nullptr, target.resolve_entry.c_str()));
  }
  curl_slist* raw_headers = curl_slist_append(nullptr, "Content-Type: application/json");
  raw_headers = curl_slist_append(raw_headers, "Expect:");  // no 100-continue round trip
  CurlSlist headers(raw_headers);

  SetCommonOptions(c, cas_);
  curl_easy_setopt(c, CURLOPT_URL, target.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  if (resolve) curl_easy_setopt(c, CURLOPT_RESOLVE, resolve.get());
  curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, OpenPinnedSocket);
  curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &exchange);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.total_timeout.count()));
  curl_easy_setopt(c, CURLOPT_USERAGENT, "paybell/1");
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, json.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(json.size()));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, KeepBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &exchange);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, KeepRetryAfter);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &exchange);

  const CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    if (exchange.refused_other_address) {
      return SlackNetworkFailure("connection to an address other than the checked one refused");
    }
    // curl_easy_strerror names the failure, never the URL.
    return SlackNetworkFailure(curl_easy_strerror(rc));
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  std::optional<std::chrono::seconds> retry_after;
  if (exchange.retry_after) {
    retry_after = ParseRetryAfter(*exchange.retry_after, std::chrono::system_clock::now());
  }
  return ClassifySlackResponse(status, retry_after);
}

}  // namespace paybell::notifications

// SlackTransport over libcurl: an HTTPS POST of the JSON body to the tenant's incoming webhook,
// re-checked against SLACK_ALLOWED_HOSTS and pinned to the address that passed. Connections are
// kept between posts (keep-alive, TLS sessions) and the trusted CAs are parsed once.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "server/common/config.h"
#include "server/notifications/curl_easy.h"
#include "server/notifications/delivery.h"
#include "server/notifications/slack_target.h"

namespace paybell::notifications {

struct SlackTransportOptions {
  std::vector<common::HostPort> allowed_hosts;  // SLACK_ALLOWED_HOSTS
  std::string ca_file;                          // PAYBELL_CA_FILE: trusted besides the system's
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds total_timeout{15000};
  HostResolver resolver;  // empty: getaddrinfo
};

class SlackWebhookTransport final : public SlackTransport {
 public:
  // Throws common::Error(kUnavailable) when ca_file cannot be read.
  explicit SlackWebhookTransport(SlackTransportOptions options);
  // Safe to call from several threads at once: each post takes a pooled handle.
  DeliveryResult Post(const std::string& url, const std::string& json) override;

 private:
  SlackTransportOptions options_;
  TrustedCas cas_;  // system CAs + ca_file, parsed once
  CurlHandlePool handles_;
};

}  // namespace paybell::notifications

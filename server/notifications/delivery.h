// How a rendered notification reaches its peer: the transports the dispatcher sends through
// (SMTP with libcurl, Slack incoming webhooks over HTTPS) and how a result is classified.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace paybell::notifications {

struct DeliveryResult {
  enum class Kind {
    kSent,       // the peer accepted it
    kRetry,      // temporary: try again later (timeouts, 5xx HTTP, 4xx SMTP, 429)
    kPermanent,  // will never work as configured (SMTP 5xx, Slack 400/403/404/410): dead
  };
  Kind kind = Kind::kSent;
  // Why it was not sent, for the log: never a secret (no Slack URL, no SMTP password).
  std::string error;
  // Slack 429's Retry-After: the earliest moment to try again.
  std::optional<std::chrono::seconds> retry_after;
  // Permanent because the Slack webhook itself is gone (400/403/404/410): the tenant's Slack
  // setting is flagged broken.
  bool slack_url_broken = false;
};

struct EmailMessage {
  std::string from;             // SMTP_FROM, e.g. "Paybell <alerts@example.com>"
  std::vector<std::string> to;  // validated addresses
  std::string subject;          // UTF-8; RFC 2047-encoded when not ASCII
  std::string text;             // text/plain part, UTF-8
  std::string html;             // text/html part, UTF-8
  // Extra headers, e.g. {"X-Paybell-Test", "true"}; names and values are checked like the rest.
  std::vector<std::pair<std::string, std::string>> headers;
};

class EmailTransport {
 public:
  virtual ~EmailTransport() = default;
  virtual DeliveryResult Send(const EmailMessage& message) = 0;
};

class SlackTransport {
 public:
  virtual ~SlackTransport() = default;
  // POSTs `json` to the tenant's incoming-webhook `url` (checked against SLACK_ALLOWED_HOSTS
  // again, the connection pinned to the address that passed, no redirects).
  virtual DeliveryResult Post(const std::string& url, const std::string& json) = 0;
};

// At most this many attempts per row; then it is dead.
inline constexpr int kMaxDeliveryAttempts = 8;

}  // namespace paybell::notifications

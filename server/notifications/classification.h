// How an answer from a peer becomes a DeliveryResult: which failures are worth another attempt.
// Pure functions, so the tables are unit-tested without a peer.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include "server/notifications/delivery.h"

namespace paybell::notifications {

// The longest Retry-After honoured: a peer cannot park a row for longer than this.
inline constexpr std::chrono::seconds kMaxRetryAfter{3600};

// Retry-After as delta-seconds ("120") or an HTTP-date, as a wait from `now`, at most
// kMaxRetryAfter; a date in the past is 0 s. nullopt when the value is neither.
std::optional<std::chrono::seconds> ParseRetryAfter(std::string_view value,
                                                    std::chrono::system_clock::time_point now);

// An HTTP answer from a Slack incoming webhook: 2xx sent; 429 retry (after `retry_after`
// when given); 408 and 5xx retry; 400/403/404/410 permanent with the URL flagged broken
// (Slack answers these for a revoked or mistyped webhook); other 4xx and 3xx (redirects are
// never followed) permanent. The error names the status, never the URL.
DeliveryResult ClassifySlackResponse(long status, std::optional<std::chrono::seconds> retry_after);

// A Slack POST that got no HTTP answer (refused, reset, timed out, TLS failed): retry.
DeliveryResult SlackNetworkFailure(std::string_view reason);

// An SMTP transaction: `last_reply` is the server's last reply code (libcurl's
// CURLINFO_RESPONSE_CODE), `failure` why libcurl gave up (empty when it succeeded). Success is
// sent; a 5xx reply permanent; a 4xx reply retry; no reply (connect, TLS, timeout) retry.
DeliveryResult ClassifySmtpResult(long last_reply, std::string_view failure);

}  // namespace paybell::notifications

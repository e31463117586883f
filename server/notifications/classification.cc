#include "server/notifications/classification.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <string>

namespace paybell::notifications {

namespace {

DeliveryResult Result(DeliveryResult::Kind kind, std::string error) {
  DeliveryResult result;
  result.kind = kind;
  result.error = std::move(error);
  return result;
}

}  // namespace

std::optional<std::chrono::seconds> ParseRetryAfter(std::string_view value,
                                                    std::chrono::system_clock::time_point now) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) {
    value.remove_suffix(1);
  }
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(),
                  [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    long long seconds = 0;
    for (char c : value) {
      seconds = std::min<long long>(seconds * 10 + (c - '0'), kMaxRetryAfter.count());
    }
    return std::chrono::seconds(seconds);
  }
  // curl_getdate reads the three date formats HTTP allows (IMF-fixdate, RFC 850, asctime).
  const std::string text(value);
  const time_t when = curl_getdate(text.c_str(), nullptr);
  if (when == -1) return std::nullopt;
  const auto wait = std::chrono::duration_cast<std::chrono::seconds>(
      std::chrono::system_clock::from_time_t(when) - now);
  return std::clamp(wait, std::chrono::seconds(0), kMaxRetryAfter);
}

DeliveryResult ClassifySlackResponse(long status, std::optional<std::chrono::seconds> retry_after) {
  const std::string answered = "slack answered " + std::to_string(status);
  if (status >= 200 && status < 300) return Result(DeliveryResult::Kind::kSent, "");
  if (status == 429) {
    DeliveryResult result = Result(DeliveryResult::Kind::kRetry, answered + " (rate limited)");
    result.retry_after = retry_after;
    return result;
  }
  if (status == 408 || (status >= 500 && status < 600)) {
    return Result(DeliveryResult::Kind::kRetry, answered);
  }
  if (status == 400 || status == 403 || status == 404 || status == 410) {
    DeliveryResult result =
        Result(DeliveryResult::Kind::kPermanent, answered + " (the webhook URL is broken)");
    result.slack_url_broken = true;
    return result;
  }
  if (status >= 300 && status < 400) {
    return Result(DeliveryResult::Kind::kPermanent, answered + " (redirects are not followed)");
  }
  if (status >= 400 && status < 500) return Result(DeliveryResult::Kind::kPermanent, answered);
  return Result(DeliveryResult::Kind::kRetry, answered);  // 1xx or nonsense: try again later
}

DeliveryResult SlackNetworkFailure(std::string_view reason) {
  return Result(DeliveryResult::Kind::kRetry, "slack unreachable: " + std::string(reason));
}

DeliveryResult ClassifySmtpResult(long last_reply, std::string_view failure) {
  if (failure.empty()) return Result(DeliveryResult::Kind::kSent, "");
  const std::string reply = std::to_string(last_reply);
  if (last_reply >= 500 && last_reply < 600) {
    return Result(DeliveryResult::Kind::kPermanent,
                  "smtp server answered " + reply + ": " + std::string(failure));
  }
  if (last_reply >= 400 && last_reply < 500) {
    return Result(DeliveryResult::Kind::kRetry,
                  "smtp server answered " + reply + ": " + std::string(failure));
  }
  return Result(DeliveryResult::Kind::kRetry, "smtp: " + std::string(failure));
}

}  // namespace paybell::notifications

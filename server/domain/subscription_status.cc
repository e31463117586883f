#include "server/domain/subscription_status.h"

#include <utility>

#include "server/domain/words.h"

namespace paybell::domain {
namespace {

constexpr std::pair<SubscriptionStatus, std::string_view> kStatusWords[] = {
    {SubscriptionStatus::kActive, "active"},
    {SubscriptionStatus::kTrialing, "trialing"},
    {SubscriptionStatus::kPastDue, "past_due"},
    {SubscriptionStatus::kCanceled, "canceled"},
    {SubscriptionStatus::kUnpaid, "unpaid"},
    {SubscriptionStatus::kIncomplete, "incomplete"},
    {SubscriptionStatus::kIncompleteExpired, "incomplete_expired"},
    {SubscriptionStatus::kPaused, "paused"},
};

}  // namespace

std::optional<SubscriptionStatus> StatusFromWord(std::string_view word) {
  return FromWord(kStatusWords, word);
}

std::string_view StatusWord(SubscriptionStatus status) { return WordOf(kStatusWords, status); }

bool IsEntitled(SubscriptionStatus status) {
  return status == SubscriptionStatus::kActive || status == SubscriptionStatus::kTrialing ||
         status == SubscriptionStatus::kPastDue;
}

bool IsLive(SubscriptionStatus status) {
  return status != SubscriptionStatus::kCanceled &&
         status != SubscriptionStatus::kIncompleteExpired;
}

}  // namespace paybell::domain

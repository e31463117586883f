// Stripe's subscription statuses and the rules that depend only on the status: entitlement,
// and the one definition of "live" that both checkout and webhook application use.
#pragma once

#include <optional>
#include <string_view>

namespace paybell::domain {

enum class SubscriptionStatus {
  kActive,
  kTrialing,
  kPastDue,
  kCanceled,
  kUnpaid,
  kIncomplete,
  kIncompleteExpired,
  kPaused,
};

// Every status, for table tests.
inline constexpr SubscriptionStatus kAllStatuses[] = {
    SubscriptionStatus::kActive,
    SubscriptionStatus::kTrialing,
    SubscriptionStatus::kPastDue,
    SubscriptionStatus::kCanceled,
    SubscriptionStatus::kUnpaid,
    SubscriptionStatus::kIncomplete,
    SubscriptionStatus::kIncompleteExpired,
    SubscriptionStatus::kPaused,
};

// Stripe's word ("past_due") → status; unknown words → nullopt.
std::optional<SubscriptionStatus> StatusFromWord(std::string_view word);
std::string_view StatusWord(SubscriptionStatus status);

// Whether the tenant may use paid features. Active and trialing are; past_due is too, because
// Stripe keeps a subscription past_due only while its retry schedule (the grace it allows) is
// running, and moves it to canceled or unpaid when that ends.
bool IsEntitled(SubscriptionStatus status);

// Whether the subscription can still bill the customer or be brought back by them: every status
// but canceled and incomplete_expired, which Stripe never leaves. A live subscription blocks a
// new checkout (the customer portal changes or resumes it: unpaid and paused ones are paid or
// resumed there, an incomplete one is completed from its invoice or expires within 23 hours),
// and no other subscription may replace it in Paybell's record. Checkout and the webhook rules
// both ask this one question, so a tenant can never be charged by two subscriptions while
// Paybell follows only one.
bool IsLive(SubscriptionStatus status);

}  // namespace paybell::domain

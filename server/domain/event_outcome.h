// What processing a Stripe event decided, as stored in billing_events.outcome.
#pragma once

#include <optional>
#include <string_view>

namespace paybell::domain {

enum class EventOutcome { kApplied, kDuplicate, kStale, kIgnored, kUnmatched, kFailed };

std::optional<EventOutcome> OutcomeFromWord(std::string_view word);
std::string_view OutcomeWord(EventOutcome outcome);

// How a stored event reached Paybell (billing_events.source): delivered to the webhook endpoint,
// or fetched from Stripe's event list by catch-up.
enum class EventSource { kWebhook, kSync };

std::optional<EventSource> SourceFromWord(std::string_view word);
std::string_view SourceWord(EventSource source);

}  // namespace paybell::domain

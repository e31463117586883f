// What processing a Stripe event decided, as stored in billing_events.outcome.
#pragma once

#include <optional>
#include <string_view>

namespace paybell::domain {

enum class EventOutcome { kApplied, kDuplicate, kStale, kIgnored, kUnmatched, kFailed };

std::optional<EventOutcome> OutcomeFromWord(std::string_view word);
std::string_view OutcomeWord(EventOutcome outcome);

}  // namespace paybell::domain

#include "server/domain/event_outcome.h"

#include <utility>

#include "server/domain/words.h"

namespace paybell::domain {
namespace {

constexpr std::pair<EventOutcome, std::string_view> kOutcomeWords[] = {
    {EventOutcome::kApplied, "applied"},     {EventOutcome::kDuplicate, "duplicate"},
    {EventOutcome::kStale, "stale"},         {EventOutcome::kIgnored, "ignored"},
    {EventOutcome::kUnmatched, "unmatched"}, {EventOutcome::kFailed, "failed"},
};

constexpr std::pair<EventSource, std::string_view> kSourceWords[] = {
    {EventSource::kWebhook, "webhook"},
    {EventSource::kSync, "sync"},
};

}  // namespace

std::optional<EventOutcome> OutcomeFromWord(std::string_view word) {
  return FromWord(kOutcomeWords, word);
}

std::string_view OutcomeWord(EventOutcome outcome) { return WordOf(kOutcomeWords, outcome); }

std::optional<EventSource> SourceFromWord(std::string_view word) {
  return FromWord(kSourceWords, word);
}

std::string_view SourceWord(EventSource source) { return WordOf(kSourceWords, source); }

}  // namespace paybell::domain

#include "server/catchup/event_sync.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>
#include <utility>
#include <vector>

#include "server/common/error.h"
#include "server/webhooks/stripe_event.h"

namespace paybell::catchup {

using common::Error;
using common::ErrorCode;

namespace {}  // namespace

EventSync::EventSync(stripe::StripeApi& api, webhooks::EventIngestor& ingestor,
                     db::Database& database, const common::Clock& clock, SyncPolicy policy)
    : api_(api), ingestor_(ingestor), database_(database), clock_(clock), policy_(policy) {}

nlohmann::json EventSync::FetchPage(const stripe::FormFields& query, int64_t page,
                                    const common::StopSignal* stop) {
  std::chrono::milliseconds wait = policy_.backoff_base;
  for (int attempt = 1;; ++attempt) {
    common::ThrowIfStopped(stop, "catch-up");
    try {
      return api_.Get("/v1/events", query, std::chrono::steady_clock::now() + policy_.page_timeout);
    } catch (const Error& e) {
      // Rate limited (429), Stripe down or unreachable: the client already retried a few times.
      // Back off longer and ask for the same page again; the cursor is unchanged.
      if (e.code() != ErrorCode::kUnavailable || attempt >= policy_.page_attempts) throw;
      spdlog::warn("catch-up: page {} of Stripe events failed ({}); asking again in {} ms", page,
                   e.what(), wait.count());
      if (stop && stop->WaitFor(wait)) common::ThrowIfStopped(stop, "catch-up");
      wait = std::min(wait * 2, policy_.backoff_cap);
    }
  }
}

SyncCounts EventSync::Run(const SyncOptions& options, const webhooks::Actor& actor,
                          const SyncProgress& progress, const common::StopSignal* stop) {
  SyncCounts counts;
  const int64_t now = clock_.NowUnix();
  if (options.since) {
    counts.since = *options.since;
  } else {
    std::optional<int64_t> newest;
    database_.Read("find the newest stored Stripe event",
                   [&](db::UnitOfWork& unit) { newest = unit.events().NewestCreated(); });
    counts.since =
        newest ? *newest - policy_.safety_margin.count() : now - policy_.first_lookback.count();
  }
  const auto report = [&](std::string_view stage) {
    if (progress) progress(counts, stage);
  };

  // Stripe lists newest first; everything is fetched before anything is applied, so the
  // events can be applied in the order they happened.
  std::vector<std::string> payloads;  // newest first
  std::set<std::string> seen;
  std::string cursor;
  for (bool more = true; more;) {
    stripe::FormFields query = {{"limit", std::to_string(policy_.page_size)},
                                {"created[gte]", std::to_string(counts.since)}};
    const auto& types = webhooks::HandledEventTypes();
    for (size_t i = 0; i < types.size(); ++i) {
      query.emplace_back("types[" + std::to_string(i) + "]", types[i]);
    }
    if (!cursor.empty()) query.emplace_back("starting_after", cursor);
    const nlohmann::json page = FetchPage(query, counts.pages + 1, stop);
    ++counts.pages;
    const auto data = page.find("data");
    if (!page.is_object() || data == page.end() || !data->is_array()) {
      throw Error(ErrorCode::kUnavailable, "Stripe's event list answered without a data array");
    }
    std::string last_id;
    for (const nlohmann::json& event : *data) {
      const auto id = event.is_object() ? event.find("id") : event.end();
      if (!event.is_object() || id == event.end() || !id->is_string()) {
        ++counts.refused;  // cannot be stored without an id; said below
        spdlog::warn("catch-up: Stripe listed an event without an id; skipped");
        continue;
      }
      last_id = id->get<std::string>();
      // A page boundary moving under new events could list one twice; count it once.
      if (!seen.insert(last_id).second) continue;
      payloads.push_back(event.dump());
      ++counts.fetched;
    }
    const auto has_more = page.find("has_more");
    more = has_more != page.end() && has_more->is_boolean() && has_more->get<bool>() &&
           !last_id.empty();
    cursor = last_id;
    report("paging");
    if (counts.fetched > policy_.max_events) {
      throw Error(ErrorCode::kFailedPrecondition,
                  "catch-up: more than " + std::to_string(policy_.max_events) + " events since " +
                      std::to_string(counts.since) +
                      "; run it with a later --since, then again with an earlier one");
    }
  }

  for (auto it = payloads.rbegin(); it != payloads.rend(); ++it) {
    common::ThrowIfStopped(stop, "catch-up");
    const std::string& payload = *it;
    if (options.dry_run) {
      std::string id;
      try {
        id = webhooks::ParseStripeEvent(payload).id;
      } catch (const webhooks::MalformedEvent& e) {
        ++counts.refused;
        continue;
      }
      if (ingestor_.IsStored(id)) {
        ++counts.duplicate;
      } else {
        ++counts.ingested;
      }
    } else {
      try {
        const webhooks::IngestResult result = ingestor_.IngestFetched(payload, actor);
        if (result.outcome == domain::EventOutcome::kDuplicate) {
          ++counts.duplicate;
        } else {
          ++counts.ingested;
          ++counts.outcomes[std::string(domain::OutcomeWord(result.outcome))];
        }
      } catch (const Error& e) {
        if (e.code() != ErrorCode::kInvalidArgument) throw;  // the database: stop, retry later
        ++counts.refused;
        spdlog::warn("catch-up: refused a listed event: {}", e.what());
      }
    }
    const int64_t done = counts.ingested + counts.duplicate + counts.refused;
    if (done % 100 == 0) report("ingesting");
  }
  return counts;
}

}  // namespace paybell::catchup

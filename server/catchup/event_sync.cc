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

namespace {

void ReportIngesting(const SyncProgress& progress, const SyncCounts& counts) {
  if (progress) progress(counts, "ingesting");
}

}  // namespace

EventSync::EventSync(stripe::StripeApi& api, webhooks::EventIngestor& ingestor,
                     db::Database& database, const common::Clock& clock, SyncPolicy policy)
    : api_(api), ingestor_(ingestor), database_(database), clock_(clock), policy_(policy) {}

bool EventSync::ListWindow(int64_t from, int64_t to, std::vector<Listed>& out, SyncCounts& counts,
                           const SyncProgress& progress, const common::StopSignal* stop) {
  out.clear();
  std::set<std::string> seen;
  std::string cursor;
  int64_t refused = 0;  // counted once the window is complete: an oversized one is listed again
  // One second cannot be split. Stripe's rate limits (100 requests a second in live mode) keep
  // it to a few hundred events, so it is held whole however many it lists.
  const bool bounded = to > from;
  for (bool more = true; more;) {
    stripe::FormFields query = {{"limit", std::to_string(policy_.page_size)},
                                {"created[gte]", std::to_string(from)},
                                {"created[lte]", std::to_string(to)}};
    const auto& types = webhooks::HandledEventTypes();
    for (size_t i = 0; i < types.size(); ++i) {
      query.emplace_back("types[" + std::to_string(i) + "]", types[i]);
    }
    if (!cursor.empty()) query.emplace_back("starting_after", cursor);
    const nlohmann::json page =
        PatientGet(api_, "/v1/events", query, policy_.patience, stop,
                   "catch-up: page " + std::to_string(counts.pages + 1) + " of Stripe events");
    ++counts.pages;
    const auto data = page.find("data");
    if (!page.is_object() || data == page.end() || !data->is_array()) {
      throw Error(ErrorCode::kUnavailable, "Stripe's event list answered without a data array");
    }
    std::string last_id;
    size_t added = 0;
    for (const nlohmann::json& event : *data) {
      const auto id = event.is_object() ? event.find("id") : event.end();
      if (!event.is_object() || id == event.end() || !id->is_string() ||
          id->get_ref<const std::string&>().empty()) {
        ++refused;  // cannot be stored without an id
        spdlog::warn("catch-up: Stripe listed an event without an id; skipped");
        continue;
      }
      last_id = id->get<std::string>();
      // A page boundary moving under new events could list one twice; keep it once.
      if (!seen.insert(last_id).second) continue;
      out.push_back({last_id, event.dump()});
      ++added;
    }
    const auto has_more = page.find("has_more");
    more = has_more != page.end() && has_more->is_boolean() && has_more->get<bool>();
    if (more && (added == 0 || last_id == cursor)) {
      // Asking from the same cursor again would list the same page forever.
      throw Error(ErrorCode::kUnavailable,
                  "Stripe's event list says there is more but its page had nothing new");
    }
    cursor = last_id;
    if (progress) {
      SyncCounts shown = counts;
      shown.fetched += static_cast<int64_t>(out.size());
      progress(shown, "paging");
    }
    if (bounded && static_cast<int64_t>(out.size()) > policy_.window_events) return false;
  }
  counts.refused += refused;
  return true;
}

std::set<std::string> EventSync::StoredAmong(const std::vector<const Listed*>& chunk) {
  std::vector<std::string> ids;
  ids.reserve(chunk.size());
  for (const Listed* event : chunk) ids.push_back(event->id);
  std::vector<std::string> stored;
  database_.Read("find which listed events are stored",
                 [&](db::UnitOfWork& unit) { stored = unit.events().StoredAmong(ids); });
  return std::set<std::string>(stored.begin(), stored.end());
}

void EventSync::Apply(const Listed& event, bool stored, const SyncOptions& options,
                      const webhooks::Actor& actor, SyncCounts& counts) {
  // Most listed events were delivered by webhook already: known from StoredAmong's reads, not an
  // ingestion that finds the duplicate and rolls back (nor a count of a duplicate delivery: this
  // is not one).
  if (stored) {
    ++counts.duplicate;
    return;
  }
  if (options.dry_run) {
    ++counts.ingested;
    return;
  }
  try {
    const webhooks::IngestResult result = ingestor_.IngestFetched(event.payload, actor);
    if (result.outcome == domain::EventOutcome::kDuplicate) {  // a webhook just stored it
      ++counts.duplicate;
    } else {
      ++counts.ingested;
      ++counts.outcomes[std::string(domain::OutcomeWord(result.outcome))];
    }
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kInvalidArgument) throw;  // the database: stop, retry later
    // Not a Stripe event Paybell can store; the next run would refuse it again, so it does not
    // hold the covered window back. Counted in the summary line and logged here.
    ++counts.refused;
    spdlog::warn("catch-up: refused listed event {}: {}", event.id, e.what());
  }
}

SyncCounts EventSync::Run(const SyncOptions& options, const webhooks::Actor& actor,
                          const SyncProgress& progress, const common::StopSignal* stop) {
  SyncCounts counts;
  // Paging covers events created up to now.
  const int64_t now = clock_.NowUnix();
  // Where catch-up would start by itself: where the last completed run's coverage ended, less
  // the margin; before the first, first_lookback back (all Stripe keeps). Not from the newest
  // stored event: webhooks arriving after an outage are newer than the events it lost, and
  // starting after them would lose those for good. The first run reads 30 days once; events
  // already stored cost one read per 100.
  std::optional<int64_t> synced_until;
  database_.Read("find where catch-up starts",
                 [&](db::UnitOfWork& unit) { synced_until = unit.events().SyncedUntil(); });
  const int64_t default_since = synced_until ? *synced_until - policy_.safety_margin.count()
                                             : now - policy_.first_lookback.count();
  counts.since = options.since.value_or(default_since);
  // A run from a later --since than the default leaves a hole behind it: not coverage.
  const bool records_coverage = !options.dry_run && counts.since <= default_since;

  std::vector<Listed> listed;  // one window, newest first
  // Windows are as wide as the last one that fit (doubled), halved while one holds too many.
  int64_t width = now - counts.since;
  for (int64_t from = counts.since; from <= now;) {
    int64_t to = std::min(now, from + width);
    while (!ListWindow(from, to, listed, counts, progress, stop)) {
      width = (to - from) / 2;
      to = from + width;
      spdlog::info("catch-up: more than {} events since {}; listing up to {} first",
                   policy_.window_events, from, to);
    }
    counts.fetched += static_cast<int64_t>(listed.size());
    // Oldest first (the list is newest first), 100 at a time: which of them are stored is asked
    // just before they are applied, not once for the window, because Stripe's retried webhooks
    // keep arriving while a window of 10,000 is applied.
    const size_t n = listed.size();
    for (size_t first = 0; first < n; first += kStoredCheckEvents) {
      std::vector<const Listed*> chunk;
      for (size_t i = first; i < std::min(n, first + kStoredCheckEvents); ++i) {
        chunk.push_back(&listed[n - 1 - i]);
      }
      const std::set<std::string> stored = StoredAmong(chunk);
      for (const Listed* event : chunk) {
        common::ThrowIfStopped(stop, "catch-up");
        Apply(*event, stored.count(event->id) > 0, options, actor, counts);
        const int64_t done = counts.ingested + counts.duplicate + counts.refused;
        if (done % 100 == 0) ReportIngesting(progress, counts);
      }
    }
    // Every event created in [from, to] is stored now.
    if (records_coverage) {
      database_.Transact("record catch-up coverage", [&](db::UnitOfWork& unit) {
        unit.events().SetSyncedUntil(to);
        unit.Commit();
      });
    }
    from = to + 1;
    width = std::max<int64_t>(1, std::min(width, now - counts.since) * 2);
  }
  return counts;
}

}  // namespace paybell::catchup

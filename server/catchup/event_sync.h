// Catch-up from Stripe's event list: the events a webhook never delivered (endpoint down, a
// rotated secret not deployed yet, 5xx answers until Stripe gave up) are fetched with
// GET /v1/events and stored and applied exactly as a delivery would be.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "db/unit_of_work.h"
#include "server/catchup/patient_get.h"
#include "server/common/clock.h"
#include "server/common/stop_signal.h"
#include "server/stripe/stripe_api.h"
#include "server/webhooks/event_ingestor.h"

namespace paybell::catchup {

struct SyncOptions {
  // Events created at or after this Unix time; nullopt: where the last completed catch-up's
  // coverage ended less SyncPolicy::safety_margin, or SyncPolicy::first_lookback back before
  // the first.
  std::optional<int64_t> since;
  bool dry_run = false;
};

struct SyncCounts {
  int64_t since = 0;      // created[gte] asked for
  int64_t fetched = 0;    // events Stripe listed (each once)
  int64_t ingested = 0;   // stored by this run (dry run: not stored yet)
  int64_t duplicate = 0;  // stored already
  int64_t refused = 0;    // listed but not a Stripe event Paybell can store (logged)
  int64_t pages = 0;
  std::map<std::string, int64_t> outcomes;  // of the ingested, by outcome word
};

struct SyncPolicy {
  // An event may become visible in Stripe's list a little after its `created`: start this far
  // before where the last run's coverage ended.
  std::chrono::seconds safety_margin{3600};
  // Stripe keeps events for 30 days.
  std::chrono::seconds first_lookback{30 * 24 * 3600};
  int page_size = 100;
  Patience patience;  // each page: 429s and outages outlasted, then resumed from the same cursor
  // Bounds one run's memory. Events are fetched a window of time at a time (newest first, as
  // Stripe lists them) and applied oldest first once the window is complete; a window holding
  // more than this many is halved and listed again (one second is held whole).
  int64_t window_events = 10000;
};

// Called after every page and every 100 events ingested; `stage` is "paging" or "ingesting".
using SyncProgress = std::function<void(const SyncCounts&, std::string_view stage)>;

class EventSync {
 public:
  EventSync(stripe::StripeApi& api, webhooks::EventIngestor& ingestor, db::Database& database,
            const common::Clock& clock, SyncPolicy policy = {});

  // Pages through GET /v1/events from `since` to now, a window of time at a time: each window
  // is listed completely (newest first, as Stripe lists them), then ingested oldest first, the
  // order Stripe created them in. An event already stored is counted a duplicate without
  // ingesting it again. A run from the default start records each completed window as covered.
  // Throws common::Error: kUnavailable when Stripe or the database stays unavailable (nothing
  // is lost: the next run starts from the last covered window) or when `stop` is signalled;
  // kFailedPrecondition when Stripe refuses the key or the query.
  SyncCounts Run(const SyncOptions& options, const webhooks::Actor& actor,
                 const SyncProgress& progress = {}, const common::StopSignal* stop = nullptr);

 private:
  static constexpr size_t kStoredCheckEvents = 100;  // events per "which are stored" read

  struct Listed {
    std::string id;
    std::string payload;
  };

  // Every handled event created in [from, to], newest first; false (and `out` incomplete) when
  // there are more than window_events of them.
  bool ListWindow(int64_t from, int64_t to, std::vector<Listed>& out, SyncCounts& counts,
                  const SyncProgress& progress, const common::StopSignal* stop);
  // The ids of the chunk's events already stored (most are: webhooks came first); one read.
  std::set<std::string> StoredAmong(const std::vector<const Listed*>& chunk);
  // `stored`: the event is in billing_events already (a duplicate).
  void Apply(const Listed& event, bool stored, const SyncOptions& options,
             const webhooks::Actor& actor, SyncCounts& counts);

  stripe::StripeApi& api_;
  webhooks::EventIngestor& ingestor_;
  db::Database& database_;
  const common::Clock& clock_;
  SyncPolicy policy_;
};

}  // namespace paybell::catchup

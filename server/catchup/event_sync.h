// Catch-up from Stripe's event list: the events a webhook never delivered (endpoint down, a
// rotated secret not deployed yet, 5xx answers until Stripe gave up) are fetched with
// GET /v1/events and stored and applied exactly as a delivery would be.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "db/unit_of_work.h"
#include "server/common/clock.h"
#include "server/common/stop_signal.h"
#include "server/stripe/stripe_api.h"
#include "server/webhooks/event_ingestor.h"

namespace paybell::catchup {

struct SyncOptions {
  // Events created at or after this Unix time; nullopt: the newest stored event's `created`
  // less SyncPolicy::safety_margin, or SyncPolicy::first_lookback back when none is stored.
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
  // Events can be created (and so listed) slightly out of order with their delivery: start this
  // far before the newest stored one. Stripe retries a failed delivery for three days, and those
  // retries still arrive; catch-up is for the ones that never will.
  std::chrono::seconds safety_margin{3600};
  // Stripe keeps events for 30 days.
  std::chrono::seconds first_lookback{30 * 24 * 3600};
  int page_size = 100;
  // One page, the client's own retries included.
  std::chrono::milliseconds page_timeout{60000};
  // A page Stripe keeps refusing (429, 5xx, network) is asked for again from the same cursor,
  // after a backoff doubling from backoff_base to backoff_cap, at most page_attempts times.
  int page_attempts = 8;
  std::chrono::milliseconds backoff_base{1000};
  std::chrono::milliseconds backoff_cap{30000};
  // Bounds one run's memory (payloads are held until paging ends, to apply oldest first).
  int64_t max_events = 200000;
};

// Called after every page and every 100 events ingested; `stage` is "paging" or "ingesting".
using SyncProgress = std::function<void(const SyncCounts&, std::string_view stage)>;

class EventSync {
 public:
  EventSync(stripe::StripeApi& api, webhooks::EventIngestor& ingestor, db::Database& database,
            const common::Clock& clock, SyncPolicy policy = {});

  // Pages through GET /v1/events (newest first, as Stripe lists them), then ingests what it
  // fetched oldest first: the order Stripe created them in, so same-second events apply in
  // order. Throws common::Error: kUnavailable when Stripe or the database stays unavailable
  // (nothing is lost: the next run starts from the same place) or when `stop` is signalled;
  // kFailedPrecondition when Stripe refuses the key.
  SyncCounts Run(const SyncOptions& options, const webhooks::Actor& actor,
                 const SyncProgress& progress = {}, const common::StopSignal* stop = nullptr);

 private:
  nlohmann::json FetchPage(const stripe::FormFields& query, int64_t page,
                           const common::StopSignal* stop);

  stripe::StripeApi& api_;
  webhooks::EventIngestor& ingestor_;
  db::Database& database_;
  const common::Clock& clock_;
  SyncPolicy policy_;
};

}  // namespace paybell::catchup

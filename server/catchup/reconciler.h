// Reconcile: Stripe's subscriptions compared with the stored ones, the differences applied
// (audited as billing.subscription.reconciled with the diff), then the stored unmatched or
// failed events whose tenant can now be found applied again.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "db/unit_of_work.h"
#include "server/catchup/patient_get.h"
#include "server/catchup/reconcile_rules.h"
#include "server/common/clock.h"
#include "server/common/stop_signal.h"
#include "server/stripe/stripe_api.h"
#include "server/webhooks/event_ingestor.h"

namespace paybell::catchup {

struct ReconcileOptions {
  std::string tenant_id;  // empty: every tenant with a subscription in the Stripe account
  bool dry_run = false;
};

struct ReconcileCounts {
  int64_t checked = 0;         // tenants compared with Stripe
  int64_t changed = 0;         // tenants whose row differed (dry run: would change)
  int64_t skipped = 0;         // tenants a newer event changed since Stripe was read
  int64_t pages = 0;           // pages of GET /v1/subscriptions
  int64_t events_retried = 0;  // stored unmatched/failed events applied again (dry run: would be)
  std::vector<FieldDiff> diffs;
};

struct ReconcilePolicy {
  Patience patience;  // each Stripe call: 429s and outages outlasted, lists resumed in place
  int page_size = 100;
  // Stored unmatched/failed events looked at per run, newest first.
  int max_events_examined = 5000;
};

using ReconcileProgress = std::function<void(const ReconcileCounts&, std::string_view stage)>;

class Reconciler {
 public:
  Reconciler(stripe::StripeApi& api, webhooks::EventIngestor& ingestor, db::Database& database,
             webhooks::PlanPrices prices, const common::Clock& clock, ReconcilePolicy policy = {});

  // Throws common::Error: kNotFound for a tenant with no Stripe customer or subscription
  // recorded, kUnavailable when Stripe or the database is unavailable or `stop` is signalled
  // (a tenant corrected before that stays corrected), kFailedPrecondition when Stripe refuses
  // the key.
  ReconcileCounts Run(const ReconcileOptions& options, const webhooks::Actor& actor,
                      const ReconcileProgress& progress = {},
                      const common::StopSignal* stop = nullptr);

 private:
  // Every subscription Stripe lists for `query` (status=all), all pages.
  std::vector<nlohmann::json> ListSubscriptions(stripe::FormFields query, ReconcileCounts& counts,
                                                const ReconcileProgress& progress,
                                                const common::StopSignal* stop);
  // Compares one tenant with its Stripe subscriptions and, unless dry run, corrects it.
  void ReconcileTenant(const std::string& tenant_id, const std::vector<nlohmann::json>& candidates,
                       int64_t fetched_at, const ReconcileOptions& options,
                       const webhooks::Actor& actor, ReconcileCounts& counts);
  // Applies again the stored unmatched/failed events with no tenant whose tenant (`only`, when
  // given) can now be found by their Stripe ids, oldest first.
  void RetryUnmatchedEvents(const std::string& only, const ReconcileOptions& options,
                            const webhooks::Actor& actor, ReconcileCounts& counts,
                            const common::StopSignal* stop);

  stripe::StripeApi& api_;
  webhooks::EventIngestor& ingestor_;
  db::Database& database_;
  webhooks::PlanPrices prices_;
  const common::Clock& clock_;
  ReconcilePolicy policy_;
};

}  // namespace paybell::catchup

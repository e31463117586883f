// The RPCs' view of catch-up and reconcile: domain counts converted to the protos, and one stop
// signal so that shutdown interrupts a run an operator started.
#pragma once

#include "server/billing/reconcile_runner.h"
#include "server/catchup/event_sync.h"
#include "server/catchup/reconciler.h"
#include "server/common/stop_signal.h"
#include "server/webhooks/sync_runner.h"

namespace paybell::catchup {

class CatchUpRunners final : public webhooks::SyncRunner, public billing::ReconcileRunner {
 public:
  CatchUpRunners(EventSync& sync, Reconciler& reconciler) : sync_(sync), reconciler_(reconciler) {}

  v1::SyncEventsResponse Sync(std::optional<int64_t> since, bool dry_run,
                              const webhooks::Actor& actor,
                              const webhooks::SyncRunner::Progress& progress) override;
  v1::ReconcileSubscriptionsResponse Reconcile(
      const std::string& tenant_id, bool dry_run, const billing::ReconcileCaller& caller,
      const billing::ReconcileRunner::Progress& progress) override;

  // Runs in progress stop at their next page or event (kUnavailable); later ones too.
  void Stop() { stop_.Stop(); }

 private:
  EventSync& sync_;
  Reconciler& reconciler_;
  common::StopSignal stop_;
};

v1::SyncEventsResponse ToProto(const SyncCounts& counts);
// with_diffs: the first 1,000 differences and how many more there were (the final answer);
// progress messages carry counts only.
v1::ReconcileSubscriptionsResponse ToProto(const ReconcileCounts& counts, bool with_diffs);

}  // namespace paybell::catchup

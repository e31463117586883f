#include "server/catchup/runners.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace paybell::catchup {

v1::SyncEventsResponse ToProto(const SyncCounts& counts) {
  v1::SyncEventsResponse out;
  out.set_fetched(counts.fetched);
  out.set_ingested(counts.ingested);
  out.set_duplicate(counts.duplicate);
  out.set_pages(counts.pages);
  out.mutable_since()->set_seconds(counts.since);
  for (const auto& [outcome, n] : counts.outcomes) (*out.mutable_outcomes())[outcome] = n;
  if (counts.refused > 0) (*out.mutable_outcomes())["refused"] = counts.refused;
  return out;
}

v1::ReconcileSubscriptionsResponse ToProto(const ReconcileCounts& counts, bool with_diffs) {
  // A whole account gone wrong must not make an answer larger than a gRPC message may be.
  constexpr size_t kMaxDiffs = 1000;
  v1::ReconcileSubscriptionsResponse out;
  out.set_checked(counts.checked);
  out.set_changed(counts.changed);
  out.set_events_retried(counts.events_retried);
  out.set_pages(counts.pages);
  out.set_skipped(counts.skipped);
  if (!with_diffs) return out;
  const size_t shown = std::min(counts.diffs.size(), kMaxDiffs);
  out.set_diffs_omitted(static_cast<int64_t>(counts.diffs.size() - shown));
  for (size_t i = 0; i < shown; ++i) {
    const FieldDiff& d = counts.diffs[i];
    v1::SubscriptionDiff* diff = out.add_diffs();
    diff->set_tenant_id(d.tenant_id);
    diff->set_field(d.field);
    diff->set_before(d.before);
    diff->set_after(d.after);
  }
  return out;
}

v1::SyncEventsResponse CatchUpRunners::Sync(std::optional<int64_t> since, bool dry_run,
                                            const webhooks::Actor& actor,
                                            const webhooks::SyncRunner::Progress& progress) {
  SyncOptions options;
  options.since = since;
  options.dry_run = dry_run;
  const SyncCounts counts = sync_.Run(
      options, actor,
      [&](const SyncCounts& so_far, std::string_view stage) {
        if (progress) progress(ToProto(so_far), stage);
      },
      &stop_);
  spdlog::info(
      "catch-up by {}{}: {} event(s) listed by Stripe since {} in {} page(s): {} ingested, {} "
      "already stored, {} refused",
      actor.name, dry_run ? " (dry run)" : "", counts.fetched, counts.since, counts.pages,
      counts.ingested, counts.duplicate, counts.refused);
  return ToProto(counts);
}

v1::ReconcileSubscriptionsResponse CatchUpRunners::Reconcile(
    const std::string& tenant_id, bool dry_run, const billing::ReconcileCaller& caller,
    const billing::ReconcileRunner::Progress& progress) {
  ReconcileOptions options;
  options.tenant_id = tenant_id;
  options.dry_run = dry_run;
  const ReconcileCounts counts = reconciler_.Run(
      options, webhooks::Actor{caller.name, caller.role, caller.request_id},
      [&](const ReconcileCounts& so_far, std::string_view stage) {
        if (progress) progress(ToProto(so_far, /*with_diffs=*/false), stage);
      },
      &stop_);
  spdlog::info(
      "reconcile by {}{}{}: {} tenant(s) compared with Stripe: {} {}, {} unmatched event(s) {}",
      caller.name, dry_run ? " (dry run)" : "", tenant_id.empty() ? "" : " of tenant " + tenant_id,
      counts.checked, counts.changed, dry_run ? "would change" : "corrected", counts.events_retried,
      dry_run ? "to retry" : "retried");
  return ToProto(counts, /*with_diffs=*/true);
}

}  // namespace paybell::catchup

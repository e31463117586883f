#include "server/catchup/catch_up_jobs.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "server/common/error.h"

namespace paybell::catchup {

using Clock = std::chrono::steady_clock;

CatchUpJobs::CatchUpJobs(EventSync& sync, Reconciler& reconciler, db::JobLock& lock,
                         Schedule schedule)
    : sync_(sync), reconciler_(reconciler), lock_(lock), schedule_(schedule) {}

CatchUpJobs::~CatchUpJobs() { Stop(); }

void CatchUpJobs::Start() {
  if (schedule_.sync_interval.count() == 0 && schedule_.reconcile_interval.count() == 0) return;
  thread_ = std::thread([this] { Loop(); });
}

void CatchUpJobs::Stop() {
  stop_.Stop();
  if (thread_.joinable()) thread_.join();
}

bool CatchUpJobs::RunExclusive(db::Job job, const char* name, const std::function<void()>& run) {
  try {
    if (!lock_.TryAcquire(job)) {
      spdlog::debug("{}: another replica is running it; skipped", name);
      return false;
    }
  } catch (const common::Error& e) {
    spdlog::warn("{}: skipped, the database is unavailable: {}", name, e.what());
    return false;
  }
  try {
    run();
  } catch (const std::exception& e) {
    spdlog::error("{}: stopped: {} (the next run starts where this one could not go on)", name,
                  e.what());
  }
  lock_.Release(job);
  return true;
}

void CatchUpJobs::Loop() {
  const webhooks::Actor actor{"paybell-scheduler", "", ""};
  const bool sync_on = schedule_.sync_interval.count() > 0;
  const bool reconcile_on = schedule_.reconcile_interval.count() > 0;
  const auto start = Clock::now();
  auto next_sync = start + std::min(schedule_.sync_interval, schedule_.first_sync_within);
  auto next_reconcile = start + schedule_.reconcile_interval;
  while (!stop_.stopped()) {
    const auto now = Clock::now();
    if (sync_on && now >= next_sync) {
      RunExclusive(db::Job::kEventSync, "catch-up", [&] {
        const auto began = Clock::now();
        const SyncCounts c = sync_.Run({}, actor, {}, &stop_);
        spdlog::info(
            "catch-up: {} event(s) listed by Stripe since {} in {} page(s): {} ingested, {} "
            "already stored, {} refused ({} ms)",
            c.fetched, c.since, c.pages, c.ingested, c.duplicate, c.refused,
            std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - began).count());
      });
      next_sync = Clock::now() + schedule_.sync_interval;
    }
    if (reconcile_on && Clock::now() >= next_reconcile && !stop_.stopped()) {
      RunExclusive(db::Job::kReconcile, "reconcile", [&] {
        const auto began = Clock::now();
        const ReconcileCounts c = reconciler_.Run({}, actor, {}, &stop_);
        spdlog::info(
            "reconcile: {} tenant(s) compared with Stripe ({} page(s)): {} corrected, {} field(s) "
            "differed, {} unmatched event(s) retried ({} ms)",
            c.checked, c.pages, c.changed, c.diffs.size(), c.events_retried,
            std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - began).count());
      });
      next_reconcile = Clock::now() + schedule_.reconcile_interval;
    }
    auto wake = Clock::time_point::max();
    if (sync_on) wake = std::min(wake, next_sync);
    if (reconcile_on) wake = std::min(wake, next_reconcile);
    stop_.WaitFor(wake - Clock::now());
  }
}

}  // namespace paybell::catchup

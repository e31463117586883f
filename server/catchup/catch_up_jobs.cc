#include "server/catchup/catch_up_jobs.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>

#include "server/common/error.h"

namespace paybell::catchup {

using Steady = std::chrono::steady_clock;

CatchUpJobs::CatchUpJobs(EventSync& sync, Reconciler& reconciler, db::JobLock& lock,
                         db::Database& database, const common::Clock& clock, Schedule schedule)
    : sync_(sync),
      reconciler_(reconciler),
      lock_(lock),
      database_(database),
      clock_(clock),
      schedule_(schedule) {}

CatchUpJobs::~CatchUpJobs() { Stop(); }

void CatchUpJobs::Start() {
  if (schedule_.sync_interval.count() == 0 && schedule_.reconcile_interval.count() == 0) return;
  thread_ = std::thread([this] { Loop(); });
}

void CatchUpJobs::Stop() {
  stop_.Stop();
  if (thread_.joinable()) thread_.join();
}

std::chrono::seconds CatchUpJobs::RunIfDue(db::Job job, std::chrono::seconds interval,
                                           const char* name, const std::function<void()>& run) {
  const std::chrono::seconds after_failure = std::min(interval, schedule_.retry_after_failure);
  try {
    if (!lock_.TryAcquire(job)) {
      spdlog::debug("{}: another replica is running it; skipped", name);
      if (schedule_.looked_at) schedule_.looked_at(job, false);
      return interval;  // that replica records when it finished; looked at again then
    }
  } catch (const common::Error& e) {
    spdlog::warn("{}: skipped, the database is unavailable: {}", name, e.what());
    if (schedule_.looked_at) schedule_.looked_at(job, false);
    return after_failure;
  }
  std::chrono::seconds next = interval;
  bool ran = false;
  try {
    // Under the lock: a replica that just finished it has recorded so.
    std::optional<int64_t> finished;
    database_.Read("read when a catch-up job last finished",
                   [&](db::UnitOfWork& unit) { finished = unit.events().LastFinished(job); });
    // A finish in this replica's future (clocks of replicas apart, a step back) is "just now".
    const int64_t since_finished =
        finished ? std::max<int64_t>(0, clock_.NowUnix() - *finished) : interval.count();
    if (since_finished < interval.count()) {
      next = interval - std::chrono::seconds(since_finished);
    } else {
      ran = true;
      run();
      database_.Transact("record a finished catch-up job", [&](db::UnitOfWork& unit) {
        unit.events().SetLastFinished(job, clock_.NowUnix());
        unit.Commit();
      });
    }
  } catch (const std::exception& e) {
    spdlog::error("{}: stopped: {} (tried again in {} s, from where this run could not go on)",
                  name, e.what(), after_failure.count());
    next = after_failure;
  }
  lock_.Release(job);
  if (schedule_.looked_at) schedule_.looked_at(job, ran);
  return std::max(next, std::chrono::seconds(1));
}

void CatchUpJobs::Loop() {
  const webhooks::Actor actor{"paybell-scheduler", "scheduler", ""};
  const bool sync_on = schedule_.sync_interval.count() > 0;
  const bool reconcile_on = schedule_.reconcile_interval.count() > 0;
  const auto start = Steady::now();
  auto next_sync = start + std::min(schedule_.sync_interval, schedule_.first_look_within);
  // After the first catch-up, which may find what reconcile would otherwise correct.
  auto next_reconcile = next_sync + std::chrono::seconds(1);
  const auto ms_since = [](Steady::time_point began) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Steady::now() - began).count();
  };
  const auto run_sync = [&] {
    const auto began = Steady::now();
    const SyncCounts c = sync_.Run({}, actor, {}, &stop_);
    spdlog::info(
        "catch-up: {} event(s) listed by Stripe since {} in {} page(s): {} ingested, {} already "
        "stored, {} refused ({} ms)",
        c.fetched, c.since, c.pages, c.ingested, c.duplicate, c.refused, ms_since(began));
  };
  const auto run_reconcile = [&] {
    const auto began = Steady::now();
    const ReconcileCounts c = reconciler_.Run({}, actor, {}, &stop_);
    spdlog::info(
        "reconcile: {} tenant(s) compared with Stripe ({} page(s)): {} corrected, {} field(s) "
        "differed, {} unmatched event(s) retried ({} ms)",
        c.checked, c.pages, c.changed, c.diffs.size(), c.events_retried, ms_since(began));
  };
  while (!stop_.stopped()) {
    if (sync_on && Steady::now() >= next_sync) {
      next_sync = Steady::now() +
                  RunIfDue(db::Job::kEventSync, schedule_.sync_interval, "catch-up", run_sync);
    }
    if (reconcile_on && Steady::now() >= next_reconcile && !stop_.stopped()) {
      next_reconcile = Steady::now() + RunIfDue(db::Job::kReconcile, schedule_.reconcile_interval,
                                                "reconcile", run_reconcile);
    }
    auto wake = Steady::time_point::max();
    if (sync_on) wake = std::min(wake, next_sync);
    if (reconcile_on) wake = std::min(wake, next_reconcile);
    stop_.WaitFor(std::chrono::duration_cast<std::chrono::milliseconds>(wake - Steady::now()));
  }
}

}  // namespace paybell::catchup

// The background schedule: catch-up every PAYBELL_SYNC_INTERVAL_S and a full reconcile every
// PAYBELL_RECONCILE_INTERVAL_S, each run by one replica at a time (db::JobLock), one summary
// line per run, stopped at shutdown. When each job last completed is kept in the database, so
// the intervals hold across restarts and replicas.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

#include "db/job_lock.h"
#include "db/unit_of_work.h"
#include "server/catchup/event_sync.h"
#include "server/catchup/reconciler.h"
#include "server/common/clock.h"
#include "server/common/stop_signal.h"

namespace paybell::catchup {

struct Schedule {
  std::chrono::seconds sync_interval{300};         // 0: no catch-up
  std::chrono::seconds reconcile_interval{86400};  // 0: no reconcile
  // After start-up each job is looked at this soon at the latest (a server that was down
  // catches up promptly), then runs when its interval has passed since it last completed on
  // any replica (at once when it never completed).
  std::chrono::seconds first_look_within{30};
  // A run that failed (Stripe or the database unavailable) is tried again this soon, or after
  // its interval when that is shorter.
  std::chrono::seconds retry_after_failure{600};
  // Called after each look at a job, with whether it ran (tests observe the schedule with it).
  std::function<void(db::Job, bool ran)> looked_at;
};

class CatchUpJobs {
 public:
  CatchUpJobs(EventSync& sync, Reconciler& reconciler, db::JobLock& lock, db::Database& database,
              const common::Clock& clock, Schedule schedule);
  ~CatchUpJobs();

  // Starts the schedule's thread; nothing runs when both intervals are 0.
  void Start();
  // Interrupts a run between pages or events (what it stored stays stored) and joins.
  void Stop();

 private:
  void Loop();
  // Runs `job` when due, under its lock; returns how long until it should be looked at again.
  std::chrono::seconds RunIfDue(db::Job job, std::chrono::seconds interval, const char* name,
                                const std::function<void()>& run);

  EventSync& sync_;
  Reconciler& reconciler_;
  db::JobLock& lock_;
  db::Database& database_;
  const common::Clock& clock_;
  Schedule schedule_;
  common::StopSignal stop_;
  std::thread thread_;
};

}  // namespace paybell::catchup

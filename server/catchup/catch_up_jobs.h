// The background schedule: catch-up every PAYBELL_SYNC_INTERVAL_S and a full reconcile every
// PAYBELL_RECONCILE_INTERVAL_S, each run by one replica at a time (db::JobLock), one summary
// line per run, stopped at shutdown.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

#include "db/job_lock.h"
#include "server/catchup/event_sync.h"
#include "server/catchup/reconciler.h"
#include "server/common/stop_signal.h"

namespace paybell::catchup {

struct Schedule {
  std::chrono::seconds sync_interval{300};         // 0: no catch-up
  std::chrono::seconds reconcile_interval{86400};  // 0: no reconcile
  // The first catch-up comes this soon after start-up at the latest (a server that was down
  // catches up promptly); the first reconcile after one reconcile interval.
  std::chrono::seconds first_sync_within{30};
};

class CatchUpJobs {
 public:
  CatchUpJobs(EventSync& sync, Reconciler& reconciler, db::JobLock& lock, Schedule schedule);
  ~CatchUpJobs();

  // Starts the schedule's thread; nothing runs when both intervals are 0.
  void Start();
  // Interrupts a run between pages or events (what it stored stays stored) and joins.
  void Stop();

 private:
  void Loop();
  // Runs `job` under its lock; false when another replica holds it.
  bool RunExclusive(db::Job job, const char* name, const std::function<void()>& run);

  EventSync& sync_;
  Reconciler& reconciler_;
  db::JobLock& lock_;
  Schedule schedule_;
  common::StopSignal stop_;
  std::thread thread_;
};

}  // namespace paybell::catchup

// Group commit: units of work that arrive together are written in one transaction, so a burst
// of webhooks costs one BEGIN, one COMMIT and one durable flush instead of one each.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "db/unit_of_work.h"

namespace paybell::db {

class GroupCommit {
 public:
  struct Options {
    std::string what = "write";  // names the transaction in messages ("ingest Stripe events")
    size_t writers = 1;          // transactions in flight at once
    size_t max_batch = 64;       // units in one transaction
  };

  GroupCommit(Database& database, Options options);
  // Stop()s.
  ~GroupCommit();
  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;

  // Runs `work` in a transaction it may share with units submitted at about the same time and
  // returns once that transaction committed; throws what Database::Transact throws.
  //
  // A shared transaction first locks every tenant its units name in `tenants`, all in one
  // order, so two shared transactions locking only those never deadlock; a unit may lock
  // further tenants itself (UnitOfWork::LockTenant: that one could meet another writer's
  // transaction in a cycle, which PostgreSQL breaks and the pool runs again), and one it names
  // is locked already. A transaction runs its units in the order they arrived; with several
  // writers two transactions may take one tenant's lock in either order, so callers that care
  // about order decide it themselves (Stripe events: by `created`, not by arrival).
  //
  // `work` must not call Commit(), and must reset what it reports on each run: besides the
  // reruns of Database::Transact, when the shared transaction fails for any reason but an
  // unavailable database, each of its units runs again in a transaction of its own, so a unit
  // that fails fails only its own caller. When the database is unavailable, every unit of the
  // transaction gets that error (kUnavailable: the caller retries later).
  void Run(const std::function<void(UnitOfWork&)>& work, const std::vector<std::string>& tenants);

  // Answers units still waiting kUnavailable and ends the writers once their current
  // transaction ended. Run() after Stop() throws kUnavailable.
  void Stop();

  // Units waiting for a writer now (tests; a measure of the backlog).
  size_t queued();
  // Whether Stop() was called.
  bool stopping();

 private:
  struct Unit;

  void WriterLoop();
  void RunTogether(const std::vector<Unit*>& batch);
  void RunAlone(Unit& unit);
  void Finish(const std::vector<Unit*>& batch);

  Database& database_;
  const Options options_;
  std::mutex mu_;
  std::condition_variable work_arrived_;
  std::deque<Unit*> queue_;
  bool stopping_ = false;
  std::vector<std::thread> writers_;
};

}  // namespace paybell::db

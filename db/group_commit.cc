#include "db/group_commit.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>

#include "server/common/error.h"

namespace paybell::db {

using common::Error;
using common::ErrorCode;

struct GroupCommit::Unit {
  const std::function<void(UnitOfWork&)>* work;
  const std::vector<std::string>* tenants;
  std::exception_ptr error;
  bool done = false;
  std::condition_variable finished;  // waited on under GroupCommit::mu_
};

GroupCommit::GroupCommit(Database& database, Options options)
    : database_(database), options_(std::move(options)) {
  const size_t writers = std::max<size_t>(options_.writers, 1);
  for (size_t i = 0; i < writers; ++i) writers_.emplace_back([this] { WriterLoop(); });
}

GroupCommit::~GroupCommit() { Stop(); }

void GroupCommit::Run(const std::function<void(UnitOfWork&)>& work,
                      const std::vector<std::string>& tenants) {
  Unit unit;
  unit.work = &work;
  unit.tenants = &tenants;
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (stopping_) throw Error(ErrorCode::kUnavailable, options_.what + ": shutting down");
    queue_.push_back(&unit);
    work_arrived_.notify_one();
    unit.finished.wait(lock, [&] { return unit.done; });
  }
  if (unit.error) std::rethrow_exception(unit.error);
}

void GroupCommit::Stop() {
  std::vector<std::thread> writers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && writers_.empty()) return;
    stopping_ = true;
    writers.swap(writers_);
    work_arrived_.notify_all();
  }
  for (std::thread& t : writers) t.join();
}

size_t GroupCommit::queued() {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

bool GroupCommit::stopping() {
  std::lock_guard<std::mutex> lock(mu_);
  return stopping_;
}

void GroupCommit::WriterLoop() {
  std::vector<Unit*> batch;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_arrived_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) {
        for (Unit* unit : queue_) {
          unit->error = std::make_exception_ptr(
              Error(ErrorCode::kUnavailable, options_.what + ": shutting down"));
          unit->done = true;
          unit->finished.notify_one();
        }
        queue_.clear();
        return;
      }
      // Everything that arrived while the last transaction ran goes into the next one: no
      // waiting for more, so a lone unit costs what it did alone.
      const size_t n = std::min(queue_.size(), std::max<size_t>(options_.max_batch, 1));
      batch.assign(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    }
    if (batch.size() == 1) {
      RunAlone(*batch.front());
    } else {
      RunTogether(batch);
    }
    Finish(batch);
  }
}

void GroupCommit::RunTogether(const std::vector<Unit*>& batch) {
  std::vector<std::string> tenants;
  for (const Unit* unit : batch) {
    tenants.insert(tenants.end(), unit->tenants->begin(), unit->tenants->end());
  }
  try {
    database_.Transact(options_.what, [&](UnitOfWork& shared) {
      shared.LockTenants(tenants);
      for (Unit* unit : batch) (*unit->work)(shared);
      shared.Commit();
    });
    return;
  } catch (const Error& e) {
    if (e.code() == ErrorCode::kUnavailable) {
      for (Unit* unit : batch) unit->error = std::current_exception();
      return;
    }
    spdlog::info("{}: a transaction of {} failed ({}); running each alone", options_.what,
                 batch.size(), e.what());
  } catch (const std::exception& e) {
    spdlog::info("{}: a transaction of {} failed ({}); running each alone", options_.what,
                 batch.size(), e.what());
  }
  for (Unit* unit : batch) RunAlone(*unit);
}

void GroupCommit::RunAlone(Unit& unit) {
  try {
    database_.Transact(options_.what, [&](UnitOfWork& alone) {
      alone.LockTenants(*unit.tenants);
      (*unit.work)(alone);
      alone.Commit();
    });
  } catch (...) {
    unit.error = std::current_exception();
  }
}

void GroupCommit::Finish(const std::vector<Unit*>& batch) {
  std::lock_guard<std::mutex> lock(mu_);
  for (Unit* unit : batch) {
    unit->done = true;
    unit->finished.notify_one();
  }
}

}  // namespace paybell::db

#include "server/common/work_queue.h"

#include <spdlog/spdlog.h>

#include <exception>

namespace paybell::common {

BoundedWorkQueue::BoundedWorkQueue(std::string name, size_t workers, size_t max_queued)
    : name_(std::move(name)), max_queued_(max_queued) {
  workers_.reserve(workers);
  for (size_t i = 0; i < workers; ++i) workers_.emplace_back([this] { Work(); });
}

BoundedWorkQueue::~BoundedWorkQueue() { Stop(); }

bool BoundedWorkQueue::TrySubmit(std::function<void()> work) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ || queue_.size() >= max_queued_) return false;
    queue_.push_back(std::move(work));
  }
  ready_.notify_one();
  return true;
}

void BoundedWorkQueue::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  ready_.notify_all();
  for (std::thread& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
}

void BoundedWorkQueue::Work() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and nothing left to run
    std::function<void()> work = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    try {
      work();
    } catch (const std::exception& e) {
      spdlog::error("{}: work failed: {}", name_, e.what());
    } catch (...) {
      spdlog::error("{}: work failed with an unknown exception", name_);
    }
    work = nullptr;  // its captures go before the lock is taken again
    lock.lock();
  }
}

}  // namespace paybell::common

// A fixed set of worker threads behind a bounded queue, each taking what waits in batches: lets
// a gRPC callback handler hand work that blocks (a database read) to threads that may block,
// without a thread per call, and lets calls that arrive together share one round trip.
#pragma once

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace paybell::common {

template <typename Item>
class BatchQueue {
 public:
  // Handles a batch: 1 to max_batch items in the order they were queued. Should not throw; if
  // it does, the exception is logged and the batch dropped, so it must answer its items first.
  using Handler = std::function<void(std::vector<Item>& batch)>;

  // Starts `workers` threads now. At most `max_queued` items wait for a worker at once.
  BatchQueue(std::string name, size_t workers, size_t max_queued, size_t max_batch, Handler handle)
      : name_(std::move(name)),
        max_queued_(max_queued),
        max_batch_(max_batch),
        handle_(std::move(handle)) {
    workers_.reserve(workers);
    for (size_t i = 0; i < workers; ++i) workers_.emplace_back([this] { Work(); });
  }
  ~BatchQueue() { Stop(); }
  BatchQueue(const BatchQueue&) = delete;
  BatchQueue& operator=(const BatchQueue&) = delete;

  // Queues `item`. False, and `item` is not handled, when `max_queued` items wait already or
  // the queue has stopped: the caller answers at once instead of waiting.
  bool TrySubmit(Item item) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_ || queue_.size() >= max_queued_) return false;
      queue_.push_back(std::move(item));
    }
    ready_.notify_one();
    return true;
  }

  // Refuses further items, lets the workers handle everything queued, and joins them: an item
  // queued before Stop() is always handled, so a caller waiting for it is always answered.
  // Called by the owner (once more from the destructor), not by several threads at once.
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    ready_.notify_all();
    for (std::thread& worker : workers_) {
      if (worker.joinable()) worker.join();
    }
  }

 private:
  void Work() {
    std::vector<Item> batch;
    batch.reserve(max_batch_);
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left to handle
      while (!queue_.empty() && batch.size() < max_batch_) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      lock.unlock();
      try {
        handle_(batch);
      } catch (const std::exception& e) {
        spdlog::error("{}: a batch failed: {}", name_, e.what());
      } catch (...) {
        spdlog::error("{}: a batch failed with an unknown exception", name_);
      }
      batch.clear();
      lock.lock();
    }
  }

  const std::string name_;
  const size_t max_queued_;
  const size_t max_batch_;
  const Handler handle_;
  std::mutex mu_;
  std::condition_variable ready_;
  std::deque<Item> queue_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;  // last: started once everything above is ready
};

}  // namespace paybell::common

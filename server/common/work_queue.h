// A fixed set of worker threads behind a bounded queue: lets a gRPC callback handler hand work
// that blocks (a database read) to threads that may block, without a thread per call.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace paybell::common {

class BoundedWorkQueue {
 public:
  // Starts `workers` threads now. At most `max_queued` items wait for a worker at once.
  BoundedWorkQueue(std::string name, size_t workers, size_t max_queued);
  // Stop().
  ~BoundedWorkQueue();
  BoundedWorkQueue(const BoundedWorkQueue&) = delete;
  BoundedWorkQueue& operator=(const BoundedWorkQueue&) = delete;

  // Queues `work` for a worker. False, and `work` is not run, when `max_queued` items wait
  // already or the queue has stopped: the caller answers at once instead of waiting. `work`
  // should not throw; if it does, the exception is logged and dropped.
  bool TrySubmit(std::function<void()> work);

  // Refuses further work, lets the workers finish everything queued, and joins them. Work
  // queued before Stop() always runs, so a caller waiting for it is always answered. Called by
  // the owner (once more from the destructor), not by several threads at once.
  void Stop();

 private:
  void Work();

  const std::string name_;
  const size_t max_queued_;
  std::mutex mu_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace paybell::common

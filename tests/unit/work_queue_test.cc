#include "server/common/work_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>

namespace paybell::common {
namespace {

TEST(BoundedWorkQueueTest, RunsWorkOnItsWorkers) {
  BoundedWorkQueue queue("test", 2, 8);
  std::promise<std::thread::id> ran;
  ASSERT_TRUE(queue.TrySubmit([&] { ran.set_value(std::this_thread::get_id()); }));
  EXPECT_NE(ran.get_future().get(), std::this_thread::get_id());
}

// The bound is what keeps a flood of calls from becoming unbounded memory: the call past it is
// refused at once (its caller answers RESOURCE_EXHAUSTED), and everything accepted still runs.
TEST(BoundedWorkQueueTest, RefusesWorkBeyondItsBoundAndRunsEverythingAccepted) {
  constexpr int kMaxQueued = 3;
  std::atomic<int> done{0};
  std::promise<void> worker_busy;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  {
    BoundedWorkQueue queue("test", 1, kMaxQueued);
    ASSERT_TRUE(queue.TrySubmit([&] {
      worker_busy.set_value();
      released.wait();
      ++done;
    }));
    worker_busy.get_future().wait();  // the one worker holds the first item: the rest wait
    for (int i = 0; i < kMaxQueued; ++i) {
      EXPECT_TRUE(queue.TrySubmit([&] { ++done; })) << i;
    }
    bool refused_ran = false;
    EXPECT_FALSE(queue.TrySubmit([&] { refused_ran = true; }));
    release.set_value();
    queue.Stop();  // runs what is queued before it returns
    EXPECT_FALSE(refused_ran);
    EXPECT_EQ(done.load(), 1 + kMaxQueued);
    EXPECT_FALSE(queue.TrySubmit([&] { ++done; })) << "accepted work after Stop";
  }
  EXPECT_EQ(done.load(), 1 + kMaxQueued);
}

TEST(BoundedWorkQueueTest, AThrowingItemDoesNotStopTheWorker) {
  BoundedWorkQueue queue("test", 1, 4);
  std::promise<void> second;
  ASSERT_TRUE(queue.TrySubmit([] { throw std::runtime_error("boom"); }));
  ASSERT_TRUE(queue.TrySubmit([&] { second.set_value(); }));
  second.get_future().wait();
}

}  // namespace
}  // namespace paybell::common

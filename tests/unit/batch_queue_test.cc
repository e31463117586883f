#include "server/common/batch_queue.h"

#include <gtest/gtest.h>

#include <future>

namespace paybell::common {
namespace {

using Batches = std::vector<std::vector<int>>;

TEST(BatchQueueTest, HandlesItemsOnItsWorkers) {
  std::promise<std::thread::id> ran;
  BatchQueue<int> queue("test", 2, 8, 4,
                        [&](std::vector<int>&) { ran.set_value(std::this_thread::get_id()); });
  ASSERT_TRUE(queue.TrySubmit(1));
  EXPECT_NE(ran.get_future().get(), std::this_thread::get_id());
}

// Items that wait together are handed over together (one database round trip for all of them),
// in the order they came, never more than max_batch at once.
TEST(BatchQueueTest, HandsOverWhatWaitsInBatchesInOrder) {
  std::promise<void> worker_busy;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  Batches batches;  // only the one worker writes it; read after Stop() joined it
  BatchQueue<int> queue("test", 1, 16, 3, [&](std::vector<int>& batch) {
    if (batch.front() == 0) {
      worker_busy.set_value();
      released.wait();
    }
    batches.push_back(batch);
  });
  ASSERT_TRUE(queue.TrySubmit(0));
  worker_busy.get_future().wait();
  for (int i = 1; i <= 5; ++i) ASSERT_TRUE(queue.TrySubmit(i));
  release.set_value();
  queue.Stop();
  EXPECT_EQ(batches, (Batches{{0}, {1, 2, 3}, {4, 5}}));
}

// The bound keeps a flood of calls from becoming unbounded memory: the item past it is refused
// at once (its caller answers RESOURCE_EXHAUSTED), and everything accepted is still handled.
TEST(BatchQueueTest, RefusesItemsBeyondItsBoundAndHandlesEverythingAccepted) {
  constexpr int kMaxQueued = 3;
  std::promise<void> worker_busy;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::vector<int> handled;
  BatchQueue<int> queue("test", 1, kMaxQueued, 1, [&](std::vector<int>& batch) {
    if (batch.front() == 0) {
      worker_busy.set_value();
      released.wait();
    }
    handled.push_back(batch.front());
  });
  ASSERT_TRUE(queue.TrySubmit(0));
  worker_busy.get_future().wait();  // the one worker holds item 0: the rest wait
  for (int i = 1; i <= kMaxQueued; ++i) EXPECT_TRUE(queue.TrySubmit(i)) << i;
  EXPECT_FALSE(queue.TrySubmit(99));
  release.set_value();
  queue.Stop();  // handles what is queued before it returns
  EXPECT_EQ(handled, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_FALSE(queue.TrySubmit(100)) << "accepted an item after Stop";
}

TEST(BatchQueueTest, AThrowingBatchDoesNotStopTheWorker) {
  std::promise<void> second;
  BatchQueue<int> queue("test", 1, 4, 1, [&](std::vector<int>& batch) {
    if (batch.front() == 1) throw std::runtime_error("boom");
    second.set_value();
  });
  ASSERT_TRUE(queue.TrySubmit(1));
  ASSERT_TRUE(queue.TrySubmit(2));
  second.get_future().wait();
}

}  // namespace
}  // namespace paybell::common

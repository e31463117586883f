// CurlStripeClient against a slow, failing stand-in for Stripe on loopback: one deadline bounds
// every attempt, backoff and retry of an operation, however many Stripe calls it makes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "server/common/error.h"
#include "server/stripe/stripe_client.h"

namespace paybell::stripe {
namespace {

using common::ErrorCode;
using std::chrono::milliseconds;
using std::chrono::steady_clock;
using ::testing::HasSubstr;

// Answers every request HTTP 500 (retryable) after `delay`, on 127.0.0.1 and a free port.
class SlowFailingStripe {
 public:
  explicit SlowFailingStripe(milliseconds delay) {
    const auto answer = [this, delay](const httplib::Request&, httplib::Response& res) {
      ++requests_;
      std::unique_lock<std::mutex> lock(mutex_);
      stopping_.wait_for(lock, delay, [this] { return stopped_; });
      res.status = 500;
      res.set_content(R"({"error":{"type":"api_error","message":"boom"}})", "application/json");
    };
    server_.Get(".*", answer);
    server_.Post(".*", answer);
    port_ = server_.bind_to_any_port("127.0.0.1");
    // Connections wait in the listen backlog until the accept loop runs, but stop() is a no-op
    // until the server runs: wait for that, or a test that sends nothing never gets to join.
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    const auto give_up = steady_clock::now() + std::chrono::seconds(5);
    while (!server_.is_running() && steady_clock::now() < give_up) {
      std::this_thread::sleep_for(milliseconds(1));
    }
  }
  ~SlowFailingStripe() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopped_ = true;
    }
    stopping_.notify_all();
    server_.stop();
    thread_.join();
  }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int requests() const { return requests_.load(); }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<int> requests_{0};
  std::mutex mutex_;
  std::condition_variable stopping_;
  bool stopped_ = false;
};

StripeClientOptions OptionsFor(const SlowFailingStripe& stripe) {
  StripeClientOptions options;
  options.api_base = stripe.base();
  options.secret_key = "sk_test_deadline";
  options.max_attempts = 10;  // the deadline, not the attempt count, ends these calls
  return options;
}

int64_t MillisecondsSince(steady_clock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(steady_clock::now() - start).count();
}

ErrorCode CodeOf(const std::function<void()>& call, std::string* message = nullptr) {
  try {
    call();
  } catch (const common::Error& e) {
    if (message) *message = e.what();
    return e.code();
  }
  ADD_FAILURE() << "no error";
  return ErrorCode::kInternal;
}

TEST(StripeClientDeadlineTest, RetriesStopAtTheOperationDeadline) {
  SlowFailingStripe stripe(milliseconds(400));
  CurlStripeClient client(OptionsFor(stripe));
  const auto start = steady_clock::now();
  EXPECT_EQ(CodeOf([&] { client.Get("/v1/promotion_codes", {}, start + milliseconds(1500)); }),
            ErrorCode::kUnavailable);
  EXPECT_LT(MillisecondsSince(start), 2000);
  EXPECT_GE(stripe.requests(), 2);  // it did retry within the time it had
}

TEST(StripeClientDeadlineTest, SeveralCallsOfOneOperationShareItsDeadline) {
  SlowFailingStripe stripe(milliseconds(400));
  CurlStripeClient client(OptionsFor(stripe));
  const auto start = steady_clock::now();
  const Deadline deadline = start + milliseconds(1500);
  // A checkout's calls: look up the coupon, check and expire an older session, create one.
  EXPECT_EQ(CodeOf([&] { client.Get("/v1/promotion_codes", {}, deadline); }),
            ErrorCode::kUnavailable);
  EXPECT_EQ(CodeOf([&] { client.Get("/v1/checkout/sessions/cs_old", {}, deadline); }),
            ErrorCode::kUnavailable);
  EXPECT_EQ(CodeOf([&] { client.Post("/v1/checkout/sessions/cs_old/expire", {}, "k1", deadline); }),
            ErrorCode::kUnavailable);
  std::string message;
  EXPECT_EQ(CodeOf([&] { client.Post("/v1/checkout/sessions", {}, "k2", deadline); }, &message),
            ErrorCode::kUnavailable);
  // All four together, not each, stay within the caller's time.
  EXPECT_LT(MillisecondsSince(start), 2000);
  EXPECT_THAT(message, HasSubstr("ran out of time"));
}

TEST(StripeClientDeadlineTest, APassedDeadlineFailsFastWithoutSending) {
  SlowFailingStripe stripe(milliseconds(400));
  CurlStripeClient client(OptionsFor(stripe));
  const auto start = steady_clock::now();
  std::string message;
  EXPECT_EQ(
      CodeOf([&] { client.Post("/v1/checkout/sessions", {}, "key-1", start - milliseconds(1)); },
             &message),
      ErrorCode::kUnavailable);
  EXPECT_THAT(message, HasSubstr("Stripe operation ran out of time"));
  EXPECT_LT(MillisecondsSince(start), 200);
  EXPECT_EQ(stripe.requests(), 0);
}

}  // namespace
}  // namespace paybell::stripe

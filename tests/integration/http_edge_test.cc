// The HTTP adapter's edge under clients that misbehave over time: slow, endless, too many,
// pipelining. Real sockets on loopback against the real adapter.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "rest_adapter/rest_adapter.h"
#include "server/app/embedded_server.h"
#include "tests/support/loopback_config.h"
#include "tests/support/raw_http.h"
#include "tests/support/stripe_events.h"
#include "tests/support/temp_dir.h"

namespace paybell {
namespace {

using ::testing::HasSubstr;
using testing::RawConnection;
using ::testing::StartsWith;
using namespace std::chrono_literals;

const std::string kSecret = "whsec_edge_test";

bool HasHead(const std::string& received) { return received.find("\r\n\r\n") != std::string::npos; }

size_t Count(const std::string& haystack, const std::string& needle) {
  size_t count = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

// A normal client on a fresh connection: the status and how long the answer took.
std::pair<int, std::chrono::milliseconds> TimedGet(int port, const std::string& path) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(2s);
  client.set_read_timeout(2s);
  const auto start = std::chrono::steady_clock::now();
  auto res = client.Get(path);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  return {res ? res->status : -1, took};
}

// Memory of this process in KiB, from /proc (`field` is "VmRSS" or "VmHWM", the peak).
long MemoryKib(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  }
  return -1;
}

// Runs `step` every `period` on its own thread until destroyed: a client acting over time.
class Repeater {
 public:
  Repeater(std::chrono::milliseconds period, std::function<void()> step)
      : thread_([this, period, step = std::move(step)] {
          std::unique_lock<std::mutex> lock(mu_);
          while (!stop_) {
            lock.unlock();
            step();
            lock.lock();
            cv_.wait_for(lock, period, [this] { return stop_; });
          }
        }) {}
  ~Repeater() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

// The whole server with the adapter as shipped (production limits).
class HttpEdgeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    common::Config config = testing::LoopbackConfig(dir_);
    config.stripe_webhook_secrets = {kSecret};
    app_ = std::make_unique<app::EmbeddedServer>(config, clock_);
    app_->Start();
    port_ = app_->http_port();
  }
  void TearDown() override { app_->Shutdown(5s); }

  // A signed event posted by a normal client: the status and how long it took.
  std::pair<int, std::chrono::milliseconds> TimedWebhook(const std::string& event_id) {
    const std::string payload = testing::EventPayload(
        event_id, "customer.subscription.created", clock_.NowUnix(),
        testing::SubscriptionObject(testing::SubscriptionSpec{}, testing::ApiShape::kCurrent));
    httplib::Client client("127.0.0.1", port_);
    client.set_connection_timeout(2s);
    client.set_read_timeout(2s);
    const auto start = std::chrono::steady_clock::now();
    auto res = client.Post(
        "/stripe/webhook",
        {{"Stripe-Signature", testing::SignatureHeader(kSecret, clock_.NowUnix(), payload)}},
        payload, "application/json");
    return {res ? res->status : -1, std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::steady_clock::now() - start)};
  }

  std::string SignedRequestHead(const std::string& payload) {
    return "POST /stripe/webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
           "Stripe-Signature: " +
           testing::SignatureHeader(kSecret, clock_.NowUnix(), payload) +
           "\r\nContent-Length: " + std::to_string(payload.size()) + "\r\n";
  }

  common::SystemClock clock_;
  testing::TempDir dir_;
  std::unique_ptr<app::EmbeddedServer> app_;
  int port_ = 0;
};

// Defect 1: 32 connections trickling a header line every few seconds held all 32 threads, and
// /healthz and the webhook stopped answering.
TEST_F(HttpEdgeTest, SlowClientsCannotStarveTheOthers) {
  std::vector<std::unique_ptr<RawConnection>> slow;
  for (int i = 0; i < 64; ++i) {
    slow.push_back(std::make_unique<RawConnection>(port_));
    ASSERT_TRUE(slow.back()->Send("POST /stripe/webhook HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
  }
  Repeater trickle(300ms, [&] {
    for (auto& conn : slow) conn->Send("X-Slow: 1\r\n", 100ms);
  });

  for (int i = 0; i < 10; ++i) {
    auto [status, took] = TimedGet(port_, "/healthz");
    EXPECT_EQ(status, 200) << "probe " << i;
    EXPECT_LT(took.count(), 1000) << "ms, probe " << i;
  }
  auto [status, took] = TimedWebhook("evt_beside_slow_clients");
  EXPECT_EQ(status, 200);
  EXPECT_LT(took.count(), 1000) << "ms";
}

// Defect 2: one connection sending endless 8 KB header lines grew the server by hundreds of MB.
TEST_F(HttpEdgeTest, EndlessHeadersAre431AndNeitherGrowMemoryNorStarveTheOthers) {
  const long rss_before = MemoryKib("VmRSS");
  constexpr size_t kOffered = 32u << 20;
  const std::string line = "X-Filler: " + std::string(8000, 'a') + "\r\n";
  std::vector<size_t> sent(4, 0);
  std::vector<std::string> answers(4);
  std::vector<std::thread> flooders;
  for (size_t i = 0; i < sent.size(); ++i) {
    flooders.emplace_back([&, i] {
      RawConnection conn(port_);
      if (!conn.Send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")) return;
      while (sent[i] < kOffered && conn.Send(line, 2s)) sent[i] += line.size();
      conn.ReadUntil(HasHead, 5s);
      answers[i] = conn.received();
    });
  }
  for (int i = 0; i < 5; ++i) {
    auto [status, took] = TimedGet(port_, "/healthz");
    EXPECT_EQ(status, 200) << "probe " << i;
    EXPECT_LT(took.count(), 1000) << "ms, probe " << i;
  }
  for (auto& flooder : flooders) flooder.join();

  for (size_t i = 0; i < sent.size(); ++i) {
    EXPECT_THAT(answers[i], StartsWith("HTTP/1.1 431 ")) << "flooder " << i;
    EXPECT_THAT(answers[i], HasSubstr("Connection: close"));
    // The head limit (16 KiB), what is drained after the answer (4 MiB) and socket buffers.
    EXPECT_LT(sent[i], 16u << 20) << "flooder " << i << " was never cut off";
  }
  const long growth_mib = (MemoryKib("VmHWM") - rss_before) / 1024;
  EXPECT_LT(growth_mib, 48) << "peak memory grew by " << growth_mib << " MiB";
}

TEST_F(HttpEdgeTest, TooManyHeaderLinesAre431) {
  std::string request = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-Id: many-lines\r\n";
  for (int i = 0; i < 200; ++i) request += "X-Line-" + std::to_string(i) + ": 1\r\n";
  RawConnection conn(port_);
  ASSERT_TRUE(conn.Send(request + "\r\n"));
  ASSERT_TRUE(conn.WaitClosed());
  EXPECT_THAT(conn.received(), StartsWith("HTTP/1.1 431 "));
  EXPECT_THAT(conn.received(), HasSubstr("too many header lines"));
  EXPECT_THAT(conn.received(), HasSubstr("X-Request-Id: many-lines"));
}

// Defect 10's "and close": the smuggled request behind the conflicting framing is never run.
TEST_F(HttpEdgeTest, ConflictingFramingIs400AndTheConnectionEnds) {
  RawConnection conn(port_);
  ASSERT_TRUE(conn.Send(
      "POST /stripe/webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4\r\n"
      "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(conn.WaitClosed(2s)) << "the connection stayed open";
  EXPECT_THAT(conn.received(), StartsWith("HTTP/1.1 400 "));
  EXPECT_EQ(Count(conn.received(), "HTTP/1.1 "), 1u) << conn.received();
}

TEST_F(HttpEdgeTest, ABodySentWithAGetIsNotReadAsTheNextRequest) {
  const std::string hidden = "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n";
  RawConnection conn(port_);
  ASSERT_TRUE(conn.Send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " +
                        std::to_string(hidden.size()) + "\r\n\r\n" + hidden +
                        "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"));
  ASSERT_TRUE(conn.WaitClosed());
  EXPECT_EQ(Count(conn.received(), "HTTP/1.1 200 "), 2u) << conn.received();
  EXPECT_THAT(conn.received(), ::testing::Not(HasSubstr("ready")));
}

TEST_F(HttpEdgeTest, PipelinedRequestsAreAnsweredInOrder) {
  RawConnection conn(port_);
  ASSERT_TRUE(
      conn.Send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                "GET /nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                "GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"));
  ASSERT_TRUE(conn.WaitClosed()) << "Connection: close was not honoured";
  const std::string& got = conn.received();
  const size_t ok = got.find("HTTP/1.1 200 ");
  const size_t missing = got.find("HTTP/1.1 404 ");
  const size_t ready = got.find("\"ready\"");
  ASSERT_NE(ok, std::string::npos) << got;
  ASSERT_NE(missing, std::string::npos) << got;
  ASSERT_NE(ready, std::string::npos) << got;
  EXPECT_LT(ok, missing);
  EXPECT_LT(missing, ready);
}

// A client waiting for "100 Continue" gets exactly one, then the answer.
TEST_F(HttpEdgeTest, ExpectContinueGetsOneContinueThenTheAnswer) {
  const std::string payload = testing::EventPayload(
      "evt_continue", "customer.subscription.created", clock_.NowUnix(),
      testing::SubscriptionObject(testing::SubscriptionSpec{}, testing::ApiShape::kCurrent));
  RawConnection conn(port_);
  ASSERT_TRUE(conn.Send(SignedRequestHead(payload) + "Expect: 100-continue\r\n\r\n"));
  ASSERT_TRUE(conn.ReadUntil(HasHead));
  EXPECT_EQ(conn.received(), "HTTP/1.1 100 Continue\r\n\r\n");
  ASSERT_TRUE(conn.Send(payload));
  ASSERT_TRUE(conn.ReadUntil([](const std::string& got) {
    return got.find("\"received\":true") != std::string::npos;
  })) << conn.received();
  EXPECT_EQ(Count(conn.received(), "100 Continue"), 1u);
  EXPECT_THAT(conn.received(), HasSubstr("HTTP/1.1 200 "));
}

// cpp-httplib answers 500 on descriptors past FD_SETSIZE (1024) unless nothing selects on them.
TEST_F(HttpEdgeTest, ConnectionsOnDescriptorsPast1024AreServed) {
  std::vector<int> spare;
  while (spare.empty() || spare.back() < 1100) {
    const int fd = ::dup(0);
    ASSERT_GE(fd, 0) << "cannot open descriptors (ulimit -n?)";
    spare.push_back(fd);
  }
  // A client that polls (cpp-httplib's client would select() on its own descriptor too).
  std::string answer;
  {
    RawConnection conn(port_);
    conn.Send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    conn.WaitClosed();
    answer = conn.received();
  }
  for (int fd : spare) ::close(fd);
  EXPECT_THAT(answer, StartsWith("HTTP/1.1 200 "));
}

// A client that sends the body without waiting gets no "100 Continue" at all.
TEST_F(HttpEdgeTest, ExpectContinueWithTheBodyAlreadySentGetsOnlyTheAnswer) {
  const std::string payload = testing::EventPayload(
      "evt_no_wait", "customer.subscription.created", clock_.NowUnix(),
      testing::SubscriptionObject(testing::SubscriptionSpec{}, testing::ApiShape::kCurrent));
  RawConnection conn(port_);
  ASSERT_TRUE(conn.Send(SignedRequestHead(payload) + "Expect: 100-continue\r\n\r\n" + payload));
  ASSERT_TRUE(conn.ReadUntil([](const std::string& got) {
    return got.find("\"received\":true") != std::string::npos;
  })) << conn.received();
  EXPECT_THAT(conn.received(), StartsWith("HTTP/1.1 200 "));
}

// The adapter alone with short limits, so deadlines are observed in a test's time.
class HttpEdgeLimitsTest : public ::testing::Test {
 protected:
  void Start(rest::FrontDoorLimits limits) {
    // Nothing here calls the gRPC server: /healthz answers by itself.
    adapter_ = std::make_unique<rest::RestAdapter>([] { return true; }, limits);
    adapter_->Start("127.0.0.1:0",
                    grpc::CreateChannel("127.0.0.1:1", grpc::InsecureChannelCredentials()),
                    rest::WebOptions{});
    port_ = adapter_->port();
  }
  void TearDown() override {
    if (adapter_) adapter_->Stop();
  }

  std::unique_ptr<rest::RestAdapter> adapter_;
  int port_ = 0;
};

TEST_F(HttpEdgeLimitsTest, AHeadNotCompleteInTimeIs408AndTheConnectionEnds) {
  rest::FrontDoorLimits limits;
  limits.request_timeout = 300ms;
  Start(limits);
  RawConnection conn(port_);
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(conn.Send("GET /healthz HTTP/1.1\r\n"));
  // Still sending, one line every 50 ms: progress does not extend the deadline.
  Repeater trickle(50ms, [&] { conn.Send("X-Slow: 1\r\n", 50ms); });
  ASSERT_TRUE(conn.ReadUntil(HasHead, 3s));
  EXPECT_THAT(conn.received(), StartsWith("HTTP/1.1 408 "));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST_F(HttpEdgeLimitsTest, ABodyNotCompleteInTimeIs408) {
  rest::FrontDoorLimits limits;
  limits.request_timeout = 300ms;
  Start(limits);
  RawConnection conn(port_);
  ASSERT_TRUE(conn.Send(
      "POST /stripe/webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{\"id\""));
  ASSERT_TRUE(conn.WaitClosed(3s));
  EXPECT_THAT(conn.received(), StartsWith("HTTP/1.1 408 "));
}

TEST_F(HttpEdgeLimitsTest, AnIdleKeptAliveConnectionIsClosed) {
  rest::FrontDoorLimits limits;
  limits.idle_timeout = 300ms;
  Start(limits);
  RawConnection conn(port_);
  ASSERT_TRUE(conn.Send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  ASSERT_TRUE(conn.ReadUntil(
      [](const std::string& got) { return got.find("\"ok\"") != std::string::npos; }));
  EXPECT_TRUE(conn.WaitClosed(3s));
}

TEST_F(HttpEdgeLimitsTest, ConnectionsOverTheLimitAre503UntilOneCloses) {
  rest::FrontDoorLimits limits;
  limits.max_connections = 4;
  Start(limits);
  std::vector<std::unique_ptr<RawConnection>> held;
  for (int i = 0; i < 4; ++i) held.push_back(std::make_unique<RawConnection>(port_));
  RawConnection refused(port_);
  ASSERT_TRUE(refused.WaitClosed());
  EXPECT_THAT(refused.received(), StartsWith("HTTP/1.1 503 "));
  EXPECT_THAT(refused.received(), HasSubstr("Retry-After: 1"));

  held.pop_back();
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  int status = -1;
  while (status != 200 && std::chrono::steady_clock::now() < deadline) {
    status = TimedGet(port_, "/healthz").first;
  }
  EXPECT_EQ(status, 200);
}

// A client that asks for responses and never reads them holds a connection, not a worker (the
// reactor writes responses; workers only make them).
TEST_F(HttpEdgeLimitsTest, ClientsThatDoNotReadTheirAnswersDoNotHoldTheWorkers) {
  rest::FrontDoorLimits limits;
  limits.workers = 2;
  Start(limits);
  // Each asks for thousands of ranges: cpp-httplib would answer ~1 MiB per request. The
  // front door drops Range, and whatever the size, the reactor does the writing.
  std::string range = "bytes=0-";
  while (range.size() < 8000) range += ",0-";
  const std::string request =
      "GET /billing/stripe-not-configured HTTP/1.1\r\nHost: x\r\nRange: " + range + "\r\n\r\n";
  std::string pipelined;
  for (int i = 0; i < 8; ++i) pipelined += request;
  std::vector<std::unique_ptr<RawConnection>> readers_who_never_read;
  for (int i = 0; i < 4; ++i) {
    readers_who_never_read.push_back(
        std::make_unique<RawConnection>(port_, /*receive_buffer=*/1024));
    ASSERT_TRUE(readers_who_never_read.back()->Send(pipelined));
  }
  for (int i = 0; i < 5; ++i) {
    auto [status, took] = TimedGet(port_, "/healthz");
    EXPECT_EQ(status, 200) << "probe " << i;
    EXPECT_LT(took.count(), 1000) << "ms, probe " << i;
  }
}

TEST_F(HttpEdgeLimitsTest, ARangeRequestGetsTheWholeResponse) {
  Start({});
  RawConnection conn(port_);
  ASSERT_TRUE(
      conn.Send("GET /healthz HTTP/1.1\r\nHost: x\r\nRange: bytes=0-1,3-4\r\n"
                "Connection: close\r\n\r\n"));
  ASSERT_TRUE(conn.WaitClosed());
  EXPECT_THAT(conn.received(), StartsWith("HTTP/1.1 200 "));
  EXPECT_THAT(conn.received(), HasSubstr("{\"status\":\"ok\"}"));
}

// Over the global buffer budget, connections holding large bodies pause; everyone else's head
// and small body still get through.
TEST_F(HttpEdgeLimitsTest, BodiesHeldJustShortOfCompleteDoNotShutOutEveryoneElse) {
  rest::FrontDoorLimits limits;
  limits.max_buffered_bytes = 4u << 20;
  Start(limits);
  const std::string almost =
      "POST /stripe/webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n" +
      std::string(1048575, 'x');
  std::vector<std::unique_ptr<RawConnection>> holders;
  for (int i = 0; i < 6; ++i) {
    holders.push_back(std::make_unique<RawConnection>(port_));
    holders.back()->Send(almost, 2s);  // the last ones may not be taken in full: over budget
  }
  for (int i = 0; i < 5; ++i) {
    auto [status, took] = TimedGet(port_, "/healthz");
    EXPECT_EQ(status, 200) << "probe " << i;
    EXPECT_LT(took.count(), 1000) << "ms, probe " << i;
  }
}

// cpp-httplib refuses header lines over 8 KiB itself, with a bare 400 that keeps the connection;
// the front door refuses them first, in its own shape.
TEST_F(HttpEdgeLimitsTest, AHeaderLineTooLongIs431FromTheFrontDoor) {
  Start({});
  RawConnection conn(port_);
  ASSERT_TRUE(
      conn.Send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: " + std::string(8200, 'a') + "\r\n\r\n"));
  ASSERT_TRUE(conn.WaitClosed());
  EXPECT_THAT(conn.received(), StartsWith("HTTP/1.1 431 "));
  EXPECT_THAT(conn.received(), HasSubstr("X-Request-Id: "));
  EXPECT_THAT(conn.received(), HasSubstr("Connection: close"));
}

TEST_F(HttpEdgeLimitsTest, TheLongestRequestLineAcceptedReachesTheRoutes) {
  Start({});
  RawConnection conn(port_);
  const std::string line = "GET /" + std::string(8192 - 16, 'a') + " HTTP/1.1\r\n";
  ASSERT_TRUE(conn.Send(line + "Host: x\r\nConnection: close\r\n\r\n"));
  ASSERT_TRUE(conn.WaitClosed());
  EXPECT_THAT(conn.received(), StartsWith("HTTP/1.1 404 ")) << "not cpp-httplib's own 414";
}

TEST_F(HttpEdgeLimitsTest, TheLastRequestAllowedOnAConnectionClosesIt) {
  rest::FrontDoorLimits limits;
  limits.max_requests_per_connection = 2;
  Start(limits);
  RawConnection conn(port_);
  const std::string get = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  ASSERT_TRUE(conn.Send(get + get + get));
  ASSERT_TRUE(conn.WaitClosed());
  EXPECT_EQ(Count(conn.received(), "HTTP/1.1 200 "), 2u) << conn.received();
  EXPECT_THAT(conn.received(), HasSubstr("Connection: close"));
}

}  // namespace
}  // namespace paybell

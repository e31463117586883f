// The HTTP adapter's connection handling, in front of cpp-httplib.
//
// cpp-httplib 0.11.4 gives each connection a pool thread from accept to close, with no limit on
// how long a request's head may take or how many header lines it may have: 32 clients sending
// one header line every few seconds held all 32 threads, and one client sending endless header
// lines grew memory without bound. Here one reactor thread (poll) accepts connections, reads
// each request, whole, into a bounded buffer (RequestFramer decides where it ends and what is
// refused) and writes each response. Only a complete request goes to a worker thread, which
// runs cpp-httplib's parsing, routing and response building on those bytes (Router::Serve) and
// hands the response back. Slow or oversized clients, sending or reading, cost a buffer and a
// file descriptor, never a worker, and are cut off at a deadline.
#pragma once

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "rest_adapter/request_framer.h"

namespace paybell::rest {

struct FrontDoorLimits {
  // Open connections at once; one more is answered 503 and closed.
  size_t max_connections = 512;
  // From a request's first byte until all of it (head and body) has arrived; then 408 and close.
  std::chrono::milliseconds request_timeout{10'000};
  // A kept-alive connection waiting for its next request is closed after this.
  std::chrono::milliseconds idle_timeout{5'000};
  // Writing one response; a client that does not read it is disconnected.
  std::chrono::milliseconds write_timeout{10'000};
  size_t max_requests_per_connection = 100;
  // Request bytes buffered across all connections. Past it, connections already holding more
  // than a head pause (and run into their 408) while every other connection can still send its
  // head and a small body: a few large uploads held open cannot shut everyone out.
  size_t max_buffered_bytes = 64u << 20;
  // Threads running handlers: requests that are complete wait in a queue for one.
  int workers = 32;
  FramerLimits framer;
};

class FrontDoor {
 public:
  // Serves one complete request read from the connection: `stream` reads exactly its bytes and
  // collects the response, which the reactor then writes. `close_connection`: this is the
  // connection's last request. Returns true when the connection may carry another request.
  using Handler = std::function<bool(httplib::Stream& stream, bool close_connection)>;

  FrontDoor(FrontDoorLimits limits, Handler handler);
  ~FrontDoor();
  FrontDoor(const FrontDoor&) = delete;
  FrontDoor& operator=(const FrontDoor&) = delete;

  // Binds host:port (port 0: the OS picks one) and returns the bound port; throws
  // std::runtime_error when the address cannot be bound.
  int Bind(const std::string& host, int port);
  // Starts the reactor and the workers.
  void Start();
  // Stops accepting, closes connections waiting for or sending a request, lets the workers
  // finish the requests they are running (requests still queued are answered 503), writes
  // those responses (each within write_timeout), and joins every thread. Idempotent.
  void Stop();

  const FrontDoorLimits& limits() const { return limits_; }

 private:
  struct Connection;
  using Clock = std::chrono::steady_clock;

  void RunReactor();
  void RunWorker();
  void Accept();
  void ReadFrom(Connection& conn);
  // Decides what the buffered bytes call for: wait, refuse, or hand to a worker.
  void Advance(Connection& conn);
  void Refuse(Connection& conn, int status, const std::string& reason,
              const std::string& request_id);
  void TakeBackFromWorkers();
  // Writes what the connection's response has left; then goes on to its next request.
  void WriteTo(Connection& conn);
  void AfterResponse(Connection& conn);
  // Ends the connection without discarding what the client may still be sending: no more
  // writes, read and drop until the client closes or the linger time is up.
  void Linger(Connection& conn);
  void Close(int fd);
  void Wake();

  const FrontDoorLimits limits_;
  const Handler handler_;
  int listen_fd_ = -1;
  int wake_fd_ = -1;  // eventfd: workers and Stop() wake the reactor
  std::thread reactor_;
  std::vector<std::thread> workers_;

  // Reactor thread only (and Stop() after the threads are joined).
  std::map<int, std::unique_ptr<Connection>> connections_;
  size_t buffered_bytes_ = 0;
  Clock::time_point accept_paused_until_;

  std::mutex mu_;
  std::condition_variable work_cv_;
  bool stopping_ = false;             // guarded by mu_
  bool workers_done_ = false;         // guarded by mu_
  std::deque<Connection*> ready_;     // complete requests for the workers
  std::deque<Connection*> returned_;  // served; back to the reactor
  bool started_ = false;
};

}  // namespace paybell::rest

// Speaking HTTP/1.1 by hand to a loopback server: for requests a well-behaved client library
// will not send (conflicting framing headers, Expect: 100-continue without a body).
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

namespace paybell::testing {

// Connects to 127.0.0.1:`port`, sends `request` as is, and returns the server's first answer:
// its head and, when it announces a Content-Length, that much body; without one, what arrives
// until the server closes or goes quiet for 200 ms. Gives up after `timeout`. Throws
// std::runtime_error when it cannot connect.
std::string RawHttpExchange(int port, const std::string& request,
                            std::chrono::milliseconds timeout = std::chrono::seconds(5));

// One loopback connection driven by hand: for clients that misbehave over time (slow, endless,
// pipelining). Closed when destroyed.
class RawConnection {
 public:
  // Connects to 127.0.0.1:`port`; throws std::runtime_error when it cannot. A
  // `receive_buffer` (bytes, SO_RCVBUF) makes a client that stops reading fill up quickly.
  explicit RawConnection(int port, int receive_buffer = 0);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  // Sends all of `bytes`, waiting up to `timeout` for room; false when the server closed or
  // reset the connection, or did not take them in time.
  bool Send(std::string_view bytes, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Reads until `done(received())` holds, the server closes, or `timeout` passes; returns
  // whether `done` held.
  bool ReadUntil(const std::function<bool(const std::string&)>& done,
                 std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Reads until the server closes the connection (true) or `timeout` passes (false).
  bool WaitClosed(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Everything the server has sent so far.
  const std::string& received() const { return received_; }
  bool closed() const { return closed_; }

 private:
  // One poll and read; false at the deadline.
  bool ReadSome(std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  std::string received_;
  bool closed_ = false;
};

}  // namespace paybell::testing

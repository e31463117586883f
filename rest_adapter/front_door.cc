#include "rest_adapter/front_door.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "server/common/request_id.h"

namespace paybell::rest {
namespace {

// After a refusal the reactor keeps reading (and discarding) for a little while, so a client
// still sending its body receives the answer instead of a connection reset.
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr size_t kMaxLingerBytes = 4u << 20;
// One connection's reads per reactor turn, so one fast sender cannot hold up the others.
constexpr size_t kMaxReadPerTurn = 256u << 10;
// An idle connection's buffer keeps at most this much capacity.
constexpr size_t kIdleBufferCapacity = 64u << 10;

const char* StatusText(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 408:
      return "Request Timeout";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 431:
      return "Request Header Fields Too Large";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

// The answer to a request refused before it reached a handler: the adapter's JSON error shape,
// and the connection ends.
std::string RefusalResponse(int status, const std::string& reason, const std::string& request_id,
                            bool retry_later) {
  const std::string body = nlohmann::json{{"error", reason}}.dump();
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + StatusText(status) + "\r\n";
  out += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n";
  if (retry_later) out += "Retry-After: 1\r\n";
  out += "X-Request-Id: " + request_id + "\r\n\r\n" + body;
  return out;
}

void AddressOf(const sockaddr_storage& addr, std::string& ip, int& port) {
  char text[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(addr);
    ::inet_ntop(AF_INET, &v4.sin_addr, text, sizeof text);
    port = ntohs(v4.sin_port);
  } else if (addr.ss_family == AF_INET6) {
    const auto& v6 = reinterpret_cast<const sockaddr_in6&>(addr);
    ::inet_ntop(AF_INET6, &v6.sin6_addr, text, sizeof text);
    port = ntohs(v6.sin6_port);
  }
  ip = text;
}

int MillisUntil(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return static_cast<int>(std::max<int64_t>(0, left.count()));
}

}  // namespace

struct FrontDoor::Connection {
  enum class Phase {
    kIdle,       // waiting for a request's first byte
    kReading,    // part of a request has arrived
    kBusy,       // a worker is serving it
    kWriting,    // the reactor is writing its response
    kLingering,  // ending: draining until the client stops or the linger time is up
  };
  int fd = -1;
  Phase phase = Phase::kIdle;
  Clock::time_point deadline;
  std::string buffer;  // from the current request's first byte
  size_t counted = 0;  // of buffer.size(), what buffered_bytes_ holds
  RequestFramer framer;
  size_t request_end = 0;  // kBusy: the request is buffer[0, request_end)
  std::string response;    // kWriting: what is left to write starts at `written`
  size_t written = 0;
  size_t served = 0;
  size_t lingered = 0;
  bool keep = false;  // set by the worker: the connection may carry another request
  std::string remote_ip, local_ip;
  int remote_port = 0, local_port = 0;
};

namespace {

// What cpp-httplib reads and writes while serving one request: it reads the request's bytes,
// already buffered, and its response is collected for the reactor to write. A worker never
// touches the socket, so a client that does not read cannot hold one.
class RequestStream final : public httplib::Stream {
 public:
  RequestStream(std::string_view request, const std::string& remote_ip, int remote_port,
                const std::string& local_ip, int local_port)
      : request_(request),
        remote_ip_(remote_ip),
        local_ip_(local_ip),
        remote_port_(remote_port),
        local_port_(local_port) {}

  bool is_readable() const override { return read_ < request_.size(); }
  bool is_writable() const override { return true; }
  ssize_t read(char* ptr, size_t size) override {
    const size_t n = std::min(size, request_.size() - read_);
    std::memcpy(ptr, request_.data() + read_, n);
    read_ += n;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char* ptr, size_t size) override {
    response_.append(ptr, size);
    return static_cast<ssize_t>(size);
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = remote_ip_;
    port = remote_port_;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = local_ip_;
    port = local_port_;
  }
  // Not the descriptor: cpp-httplib (built without CPPHTTPLIB_USE_POLL) answers 500 to any
  // stream whose socket() is at or above FD_SETSIZE, a guard for its select() calls. Nothing
  // here selects, so a busy process with descriptors past 1024 must not turn every request
  // into a 500.
  socket_t socket() const override { return INVALID_SOCKET; }

  std::string TakeResponse() { return std::move(response_); }

 private:
  std::string_view request_;
  size_t read_ = 0;
  std::string response_;
  const std::string& remote_ip_;
  const std::string& local_ip_;
  int remote_port_, local_port_;
};

}  // namespace

FrontDoor::FrontDoor(FrontDoorLimits limits, Handler handler)
    : limits_(limits), handler_(std::move(handler)) {}

FrontDoor::~FrontDoor() {
  Stop();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

int FrontDoor::Bind(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0) {
    throw std::runtime_error("cannot resolve " + host);
  }
  for (addrinfo* ai = found; ai != nullptr && listen_fd_ < 0; ai = ai->ai_next) {
    const int fd =
        ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    const int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd, SOMAXCONN) == 0) {
      listen_fd_ = fd;
    } else {
      ::close(fd);
    }
  }
  ::freeaddrinfo(found);
  if (listen_fd_ < 0) throw std::runtime_error("cannot listen on " + host);
  sockaddr_storage bound{};
  socklen_t length = sizeof bound;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&bound), &length);
  std::string ip;
  int bound_port = 0;
  AddressOf(bound, ip, bound_port);
  return bound_port;
}

void FrontDoor::Start() {
  if (listen_fd_ < 0) throw std::logic_error("FrontDoor::Start before Bind");
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) throw std::runtime_error("eventfd failed");
  started_ = true;
  for (int i = 0; i < limits_.workers; ++i) workers_.emplace_back([this] { RunWorker(); });
  reactor_ = std::thread([this] { RunReactor(); });
}

void FrontDoor::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!started_ || stopping_) return;
    stopping_ = true;
  }
  Wake();
  work_cv_.notify_all();
  for (auto& worker : workers_) worker.join();
  {
    std::lock_guard<std::mutex> lock(mu_);
    workers_done_ = true;
  }
  Wake();
  reactor_.join();
  for (auto& [fd, conn] : connections_) ::close(fd);
  connections_.clear();
}

void FrontDoor::Wake() {
  const uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(wake_fd_, &one, sizeof one);
}

void FrontDoor::Close(int fd) {
  auto it = connections_.find(fd);
  if (it == connections_.end()) return;
  buffered_bytes_ -= it->second->counted;
  ::close(fd);
  connections_.erase(it);
}

void FrontDoor::RunReactor() {
  std::vector<pollfd> polled;
  bool shutting_down = false;
  for (;;) {
    bool workers_done = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_ && !shutting_down) {
        // Nothing more is accepted or read; responses being made are still written.
        shutting_down = true;
        ::close(listen_fd_);
        listen_fd_ = -1;
        std::vector<int> waiting;
        for (auto& [fd, conn] : connections_) {
          if (conn->phase != Connection::Phase::kBusy &&
              conn->phase != Connection::Phase::kWriting) {
            waiting.push_back(fd);
          }
        }
        for (int fd : waiting) Close(fd);
      }
      workers_done = workers_done_;
    }
    if (shutting_down && workers_done) {
      TakeBackFromWorkers();
      if (connections_.empty()) break;
    }
    polled.clear();
    polled.push_back({wake_fd_, POLLIN, 0});
    const bool accepting = !shutting_down && Clock::now() >= accept_paused_until_;
    polled.push_back({accepting ? listen_fd_ : -1, POLLIN, 0});
    auto next_deadline = Clock::now() + std::chrono::seconds(1);
    if (!accepting) next_deadline = std::min(next_deadline, accept_paused_until_);
    const bool over_budget = buffered_bytes_ >= limits_.max_buffered_bytes;
    for (auto& [fd, conn] : connections_) {
      using Phase = Connection::Phase;
      if (conn->phase == Phase::kBusy) continue;
      next_deadline = std::min(next_deadline, conn->deadline);
      if (conn->phase == Phase::kWriting) {
        polled.push_back({fd, POLLOUT, 0});
      } else if (conn->phase == Phase::kLingering || !over_budget ||
                 conn->buffer.size() < limits_.framer.max_head_bytes) {
        polled.push_back({fd, POLLIN, 0});
      }
    }
    ::poll(polled.data(), polled.size(), MillisUntil(next_deadline) + 1);

    if (polled[0].revents != 0) {
      uint64_t count = 0;
      [[maybe_unused]] const ssize_t n = ::read(wake_fd_, &count, sizeof count);
    }
    TakeBackFromWorkers();
    if (polled[1].revents != 0) Accept();
    for (size_t i = 2; i < polled.size(); ++i) {
      if (polled[i].revents == 0) continue;
      auto it = connections_.find(polled[i].fd);
      if (it == connections_.end()) continue;
      if (it->second->phase == Connection::Phase::kWriting) {
        WriteTo(*it->second);
      } else {
        ReadFrom(*it->second);
      }
    }
    // Deadlines.
    const auto now = Clock::now();
    std::vector<int> expired;
    for (auto& [fd, conn] : connections_) {
      if (conn->phase != Connection::Phase::kBusy && conn->deadline <= now) expired.push_back(fd);
    }
    for (int fd : expired) {
      Connection& conn = *connections_.at(fd);
      if (conn.phase == Connection::Phase::kReading) {
        // A slow client gets its answer, then the connection ends.
        Refuse(conn, 408, "request not received in time", conn.framer.Scan(conn.buffer).request_id);
      } else {
        Close(fd);  // idle, a client not reading its answer, or done lingering
      }
    }
  }
}

void FrontDoor::Accept() {
  for (;;) {
    sockaddr_storage peer{};
    socklen_t length = sizeof peer;
    const int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&peer), &length,
                             SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Out of descriptors: the pending connection stays queued; accepting pauses briefly
        // instead of spinning on a listening socket that stays readable.
        accept_paused_until_ = Clock::now() + std::chrono::milliseconds(100);
        spdlog::warn("http accept failed: {}", std::strerror(errno));
      }
      return;  // EAGAIN: all taken
    }
    if (connections_.size() >= limits_.max_connections) {
      const std::string answer = RefusalResponse(503, "too many connections; retry shortly",
                                                 common::NewRequestId(), /*retry_later=*/true);
      [[maybe_unused]] const ssize_t n =
          ::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      // Close without a reset if the client's request is already here: read what arrived.
      ::shutdown(fd, SHUT_WR);
      char discard[4096];
      while (::recv(fd, discard, sizeof discard, MSG_DONTWAIT) > 0) {
      }
      ::close(fd);
      spdlog::warn("http refused a connection: {} open, the limit", connections_.size());
      continue;
    }
    const int yes = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
    auto conn = std::make_unique<Connection>();
    conn->fd = fd;
    conn->framer = RequestFramer(limits_.framer);
    conn->deadline = Clock::now() + limits_.idle_timeout;
    AddressOf(peer, conn->remote_ip, conn->remote_port);
    sockaddr_storage local{};
    length = sizeof local;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length);
    AddressOf(local, conn->local_ip, conn->local_port);
    connections_.emplace(fd, std::move(conn));
  }
}

void FrontDoor::ReadFrom(Connection& conn) {
  char chunk[64 * 1024];
  size_t this_turn = 0;
  while (this_turn < kMaxReadPerTurn) {
    size_t room = sizeof chunk;
    if (conn.phase != Connection::Phase::kLingering) {
      // Over the global budget, a connection may still bring its buffer up to a head's size.
      const size_t budget_left = buffered_bytes_ < limits_.max_buffered_bytes
                                     ? limits_.max_buffered_bytes - buffered_bytes_
                                     : 0;
      const size_t head_left = conn.buffer.size() < limits_.framer.max_head_bytes
                                   ? limits_.framer.max_head_bytes - conn.buffer.size()
                                   : 0;
      room = std::min(room, std::max(budget_left, head_left));
      if (room == 0) return;
    }
    const ssize_t n = ::recv(conn.fd, chunk, room, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n <= 0) {  // closed by the client, or reset
      Close(conn.fd);
      return;
    }
    this_turn += static_cast<size_t>(n);
    if (conn.phase == Connection::Phase::kLingering) {
      conn.lingered += static_cast<size_t>(n);
      if (conn.lingered > kMaxLingerBytes) {
        Close(conn.fd);
        return;
      }
      continue;
    }
    if (conn.phase == Connection::Phase::kIdle) {
      conn.phase = Connection::Phase::kReading;
      conn.deadline = Clock::now() + limits_.request_timeout;
    }
    conn.buffer.append(chunk, static_cast<size_t>(n));
    buffered_bytes_ += static_cast<size_t>(n);
    conn.counted += static_cast<size_t>(n);
    Advance(conn);
    if (conn.phase != Connection::Phase::kReading) return;  // handed over, refused or closed
  }
}

void FrontDoor::Advance(Connection& conn) {
  Framing framing = conn.framer.Scan(conn.buffer);
  if (framing.state != Framing::State::kRefused && !framing.dropped.empty()) {
    // Lines cpp-httplib must not see (RequestFramer: Expect, answered here when the body is
    // still to come; Range). Removed from the last, so earlier offsets stay valid.
    const bool send_continue = framing.awaits_continue;
    for (auto line = framing.dropped.rbegin(); line != framing.dropped.rend(); ++line) {
      const size_t removed = line->end - line->begin;
      conn.buffer.erase(line->begin, removed);
      conn.counted -= removed;
      buffered_bytes_ -= removed;
    }
    conn.framer.Reset();
    framing = conn.framer.Scan(conn.buffer);
    if (send_continue) {
      static constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
      [[maybe_unused]] const ssize_t n =
          ::send(conn.fd, kContinue, sizeof kContinue - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    }
  }
  switch (framing.state) {
    case Framing::State::kNeedMore:
      return;
    case Framing::State::kRefused:
      Refuse(conn, framing.status, framing.reason, framing.request_id);
      return;
    case Framing::State::kComplete:
      conn.phase = Connection::Phase::kBusy;
      conn.request_end = framing.request_end;
      {
        std::lock_guard<std::mutex> lock(mu_);
        ready_.push_back(&conn);
      }
      work_cv_.notify_one();
      return;
  }
}

void FrontDoor::Refuse(Connection& conn, int status, const std::string& reason,
                       const std::string& request_id) {
  std::string id = common::SanitizeRequestId(request_id);
  if (id.empty()) id = common::NewRequestId();
  const std::string answer = RefusalResponse(status, reason, id, /*retry_later=*/false);
  [[maybe_unused]] const ssize_t n =
      ::send(conn.fd, answer.data(), answer.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  spdlog::info("http refused -> {} {} peer={} request_id={}", status, reason, conn.remote_ip, id);
  Linger(conn);
}

void FrontDoor::Linger(Connection& conn) {
  ::shutdown(conn.fd, SHUT_WR);
  buffered_bytes_ -= conn.counted;
  conn.counted = 0;
  std::string().swap(conn.buffer);
  std::string().swap(conn.response);
  conn.phase = Connection::Phase::kLingering;
  conn.lingered = 0;
  conn.deadline = Clock::now() + kLingerTime;
}

void FrontDoor::TakeBackFromWorkers() {
  std::deque<Connection*> returned;
  {
    std::lock_guard<std::mutex> lock(mu_);
    returned.swap(returned_);
  }
  for (Connection* conn : returned) {
    // A request of up to a MiB leaves its capacity behind: an idle connection keeps little.
    if (conn->buffer.capacity() > kIdleBufferCapacity) conn->buffer.shrink_to_fit();
    buffered_bytes_ = buffered_bytes_ - conn->counted + conn->buffer.size();
    conn->counted = conn->buffer.size();
    conn->phase = Connection::Phase::kWriting;
    conn->written = 0;
    conn->deadline = Clock::now() + limits_.write_timeout;
    WriteTo(*conn);
  }
}

void FrontDoor::WriteTo(Connection& conn) {
  while (conn.written < conn.response.size()) {
    const ssize_t n = ::send(conn.fd, conn.response.data() + conn.written,
                             conn.response.size() - conn.written, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      conn.written += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return;  // the reactor waits for POLLOUT (or the write deadline)
    } else {
      Close(conn.fd);
      return;
    }
  }
  std::string().swap(conn.response);
  AfterResponse(conn);
}

void FrontDoor::AfterResponse(Connection& conn) {
  bool stopping = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping = stopping_;
  }
  if (stopping) {
    Close(conn.fd);
  } else if (!conn.keep) {
    Linger(conn);  // pipelined bytes may follow: drained, so the answer is not reset away
  } else if (conn.buffer.empty()) {
    conn.phase = Connection::Phase::kIdle;
    conn.deadline = Clock::now() + limits_.idle_timeout;
  } else {  // the client sent its next request already (pipelining)
    conn.phase = Connection::Phase::kReading;
    conn.deadline = Clock::now() + limits_.request_timeout;
    Advance(conn);
  }
}

void FrontDoor::RunWorker() {
  for (;;) {
    Connection* conn = nullptr;
    bool stopping = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_cv_.wait(lock, [this] { return stopping_ || !ready_.empty(); });
      if (ready_.empty()) return;
      conn = ready_.front();
      ready_.pop_front();
      stopping = stopping_;
    }
    bool keep = false;
    if (stopping) {
      // Shutting down: a request that has not started is not started now (Stripe retries).
      conn->response = RefusalResponse(503, "server shutting down; retry shortly",
                                       common::NewRequestId(), /*retry_later=*/true);
    } else {
      const bool last = conn->served + 1 >= limits_.max_requests_per_connection;
      RequestStream stream(std::string_view(conn->buffer).substr(0, conn->request_end),
                           conn->remote_ip, conn->remote_port, conn->local_ip, conn->local_port);
      try {
        keep = handler_(stream, last) && !last;
      } catch (const std::exception& e) {
        spdlog::error("http handler failed: {}", e.what());
      }
      conn->response = stream.TakeResponse();
    }
    // Whatever of the request the handler did not read (a GET's body) is dropped with it.
    conn->buffer.erase(0, conn->request_end);
    conn->framer.Reset();
    conn->served++;
    conn->keep = keep;
    {
      std::lock_guard<std::mutex> lock(mu_);
      returned_.push_back(conn);
    }
    Wake();
  }
}

}  // namespace paybell::rest

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
// Responses are collected and sent in one write (with TCP_NODELAY), flushed early past this.
constexpr size_t kWriteBufferBytes = 64u << 10;

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
    kLingering,  // refused: draining until the client stops or the linger time is up
  };
  int fd = -1;
  Phase phase = Phase::kIdle;
  Clock::time_point deadline;
  std::string buffer;  // from the current request's first byte
  size_t counted = 0;  // of buffer.size(), what buffered_bytes_ holds
  RequestFramer framer;
  size_t request_end = 0;  // kBusy: the request is buffer[0, request_end)
  size_t served = 0;
  size_t lingered = 0;
  bool keep = false;  // set by the worker: the connection may carry another request
  std::string remote_ip, local_ip;
  int remote_port = 0, local_port = 0;
};

namespace {

// What cpp-httplib reads and writes while serving one request: it reads the request's bytes,
// already buffered, and writes to the socket (non-blocking: waits up to the write deadline).
class RequestStream final : public httplib::Stream {
 public:
  RequestStream(int fd, std::string_view request, std::chrono::steady_clock::time_point deadline,
                const std::string& remote_ip, int remote_port, const std::string& local_ip,
                int local_port)
      : fd_(fd),
        request_(request),
        deadline_(deadline),
        remote_ip_(remote_ip),
        local_ip_(local_ip),
        remote_port_(remote_port),
        local_port_(local_port) {}

  bool is_readable() const override { return read_ < request_.size(); }
  bool is_writable() const override {
    pollfd p{fd_, POLLOUT, 0};
    return ::poll(&p, 1, MillisUntil(deadline_)) > 0 && (p.revents & POLLOUT) != 0;
  }
  ssize_t read(char* ptr, size_t size) override {
    const size_t n = std::min(size, request_.size() - read_);
    std::memcpy(ptr, request_.data() + read_, n);
    read_ += n;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char* ptr, size_t size) override {
    if (failed_) return -1;
    pending_.append(ptr, size);
    if (pending_.size() >= kWriteBufferBytes && !Flush()) return -1;
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
  // here selects (reads come from the buffer, writes wait in poll()), so a busy process with
  // descriptors past 1024 must not turn every request into a 500.
  socket_t socket() const override { return INVALID_SOCKET; }

  // Sends what was written; false when the client did not take it before the deadline.
  bool Flush() {
    size_t sent = 0;
    while (!failed_ && sent < pending_.size()) {
      const ssize_t n = ::send(fd_, pending_.data() + sent, pending_.size() - sent, MSG_NOSIGNAL);
      if (n > 0) {
        sent += static_cast<size_t>(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        pollfd p{fd_, POLLOUT, 0};
        if (::poll(&p, 1, MillisUntil(deadline_)) <= 0) failed_ = true;
      } else {
        failed_ = true;
      }
    }
    pending_.clear();
    return !failed_;
  }

 private:
  int fd_;
  std::string_view request_;
  size_t read_ = 0;
  std::chrono::steady_clock::time_point deadline_;
  std::string pending_;
  bool failed_ = false;
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
  reactor_.join();
  for (auto& worker : workers_) worker.join();
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
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) break;
    }
    polled.clear();
    polled.push_back({wake_fd_, POLLIN, 0});
    const bool accepting = Clock::now() >= accept_paused_until_;
    polled.push_back({accepting ? listen_fd_ : -1, POLLIN, 0});
    auto next_deadline = Clock::now() + std::chrono::seconds(1);
    if (!accepting) next_deadline = std::min(next_deadline, accept_paused_until_);
    const bool may_buffer = buffered_bytes_ < limits_.max_buffered_bytes;
    for (auto& [fd, conn] : connections_) {
      if (conn->phase == Connection::Phase::kBusy) continue;
      next_deadline = std::min(next_deadline, conn->deadline);
      if (conn->phase == Connection::Phase::kLingering || may_buffer) {
        polled.push_back({fd, POLLIN, 0});
      }
    }
    ::poll(polled.data(), polled.size(), MillisUntil(next_deadline) + 1);

    if (polled[0].revents != 0) {
      uint64_t count = 0;
      [[maybe_unused]] const ssize_t n = ::read(wake_fd_, &count, sizeof count);
      TakeBackFromWorkers();
    }
    if (polled[1].revents != 0) Accept();
    for (size_t i = 2; i < polled.size(); ++i) {
      if (polled[i].revents == 0) continue;
      auto it = connections_.find(polled[i].fd);
      if (it != connections_.end()) ReadFrom(*it->second);
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
        Refuse(conn, 408, "request not received in time", conn.framer.Scan(conn.buffer).request_id);
        Close(fd);  // a slow client gets its answer but no lingering
      } else {
        Close(fd);
      }
    }
  }
  // Stopping: nothing more is accepted or read; workers finish what they hold.
  ::close(listen_fd_);
  listen_fd_ = -1;
  std::vector<int> idle;
  for (auto& [fd, conn] : connections_) {
    if (conn->phase != Connection::Phase::kBusy) idle.push_back(fd);
  }
  for (int fd : idle) Close(fd);
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
    const ssize_t n = ::recv(conn.fd, chunk, sizeof chunk, 0);
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
  if (framing.state != Framing::State::kRefused && framing.expect_end > 0) {
    // "Expect: 100-continue" is answered here, when the body is still to come, and the line
    // removed so cpp-httplib never answers it (a second time, or after the body).
    const bool send_continue = framing.awaits_continue;
    const size_t removed = framing.expect_end - framing.expect_begin;
    conn.buffer.erase(framing.expect_begin, removed);
    conn.counted -= removed;
    buffered_bytes_ -= removed;
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
  ::shutdown(conn.fd, SHUT_WR);
  spdlog::info("http refused -> {} {} peer={} request_id={}", status, reason, conn.remote_ip, id);
  buffered_bytes_ -= conn.counted;
  conn.counted = 0;
  std::string().swap(conn.buffer);
  conn.phase = Connection::Phase::kLingering;
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
    if (conn->buffer.capacity() > kWriteBufferBytes) conn->buffer.shrink_to_fit();
    buffered_bytes_ = buffered_bytes_ - conn->counted + conn->buffer.size();
    conn->counted = conn->buffer.size();
    if (!conn->keep) {
      Close(conn->fd);
      continue;
    }
    if (conn->buffer.empty()) {
      conn->phase = Connection::Phase::kIdle;
      conn->deadline = Clock::now() + limits_.idle_timeout;
    } else {  // the client sent its next request already (pipelining)
      conn->phase = Connection::Phase::kReading;
      conn->deadline = Clock::now() + limits_.request_timeout;
      Advance(*conn);
    }
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
    const bool last = stopping || conn->served + 1 >= limits_.max_requests_per_connection;
    RequestStream stream(conn->fd, std::string_view(conn->buffer).substr(0, conn->request_end),
                         Clock::now() + limits_.write_timeout, conn->remote_ip, conn->remote_port,
                         conn->local_ip, conn->local_port);
    bool keep = false;
    try {
      keep = handler_(stream, last);
    } catch (const std::exception& e) {
      spdlog::error("http handler failed: {}", e.what());
    }
    keep = stream.Flush() && keep && !last;
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

#include "tools/bench/load/slack_sink.h"

#include <stdexcept>

namespace paybell::bench {
namespace {

// Every "bm<digits>x" in `body`.
std::vector<uint64_t> Markers(const std::string& body) {
  std::vector<uint64_t> found;
  for (size_t at = body.find("bm"); at != std::string::npos; at = body.find("bm", at + 2)) {
    size_t end = at + 2;
    uint64_t value = 0;
    while (end < body.size() && body[end] >= '0' && body[end] <= '9' && end - at < 22) {
      value = value * 10 + static_cast<uint64_t>(body[end] - '0');
      ++end;
    }
    if (end > at + 2 && end < body.size() && body[end] == 'x') found.push_back(value);
  }
  return found;
}

}  // namespace

std::string MessageMarker(uint64_t sequence) { return "bm" + std::to_string(sequence) + "x"; }

SlackSink::SlackSink(const PkiFiles& pki, int port, int threads)
    : server_(pki.cert_file.c_str(), pki.key_file.c_str()) {
  if (!server_.is_valid()) {
    throw std::runtime_error("Slack stand-in: cannot load " + pki.cert_file + " / " + pki.key_file);
  }
  // The dispatcher's senders may keep connections open; one thread per connection.
  server_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // cpp-httplib writes the head and the body separately: with Nagle on, each answer waits for
  // the client's delayed ACK (40 ms), which would make the stand-in the bottleneck.
  server_.set_tcp_nodelay(true);
  server_.Post(".*", [this](const httplib::Request& request, httplib::Response& response) {
    const auto now = std::chrono::steady_clock::now();
    const std::vector<uint64_t> markers = Markers(request.body);
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++posts_;
      ++posts_by_path_[request.path];
      for (uint64_t marker : markers) first_seen_.emplace(marker, now);
    }
    response.set_content("ok", "text/plain");
  });
  port_ = port == 0 ? server_.bind_to_any_port("127.0.0.1") : port;
  if (port_ <= 0 || (port != 0 && !server_.bind_to_port("127.0.0.1", port))) {
    throw std::runtime_error("Slack stand-in: cannot listen on 127.0.0.1:" + std::to_string(port));
  }
  thread_ = std::thread([this] { server_.listen_after_bind(); });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!server_.is_running()) {
    if (std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error("Slack stand-in did not start");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

SlackSink::~SlackSink() {
  server_.stop();
  if (thread_.joinable()) thread_.join();
}

SlackSink::Deliveries SlackSink::Count(const std::vector<uint64_t>& expected) const {
  Deliveries out;
  std::lock_guard<std::mutex> lock(mu_);
  for (uint64_t marker : expected) {
    const auto it = first_seen_.find(marker);
    if (it == first_seen_.end()) continue;
    if (out.delivered == 0 || it->second < out.first) out.first = it->second;
    if (out.delivered == 0 || it->second > out.last) out.last = it->second;
    ++out.delivered;
  }
  return out;
}

int64_t SlackSink::posts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return posts_;
}

size_t SlackSink::paths() const {
  std::lock_guard<std::mutex> lock(mu_);
  return posts_by_path_.size();
}

}  // namespace paybell::bench

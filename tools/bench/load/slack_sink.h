// The Slack stand-in of the emit scenario: an HTTPS cpp-httplib server on 127.0.0.1 that answers
// every POST 200 "ok", counts POSTs per path (one path per tenant), and notes when each bench
// message marker ("bm<N>x", carried in the emitted event's fields) first arrived.
#pragma once

#include <httplib.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "tools/bench/load/throwaway_pki.h"

namespace paybell::bench {

// The marker a bench event carries so the sink can tell which emit a message belongs to.
std::string MessageMarker(uint64_t sequence);

class SlackSink {
 public:
  // Listens on 127.0.0.1:`port` (0: a free port) with the certificate in `pki`; throws
  // std::runtime_error when it cannot.
  SlackSink(const PkiFiles& pki, int port, int threads = 8);
  ~SlackSink();
  SlackSink(const SlackSink&) = delete;
  SlackSink& operator=(const SlackSink&) = delete;

  int port() const { return port_; }

  struct Deliveries {
    int64_t delivered = 0;                              // of the expected markers, how many arrived
    std::chrono::steady_clock::time_point first, last;  // first arrivals, earliest and latest
  };
  Deliveries Count(const std::vector<uint64_t>& expected) const;
  int64_t posts() const;
  size_t paths() const;  // distinct paths (tenants) that received a POST

 private:
  httplib::SSLServer server_;
  std::thread thread_;
  int port_ = 0;
  mutable std::mutex mu_;
  int64_t posts_ = 0;
  std::map<std::string, int64_t> posts_by_path_;
  std::unordered_map<uint64_t, std::chrono::steady_clock::time_point> first_seen_;
};

}  // namespace paybell::bench

// `paybell-bench-load emit`: NotificationService.Emit at a fixed number of calls in flight across
// the bench tenants, each tenant's Slack URL pointing at the local stand-in, then the wait for
// every queued message to reach it.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

namespace paybell::bench {

struct EmitOptions {
  std::string target;
  std::string token;  // operator: UpdateSettings needs it, Emit takes service or operator
  int tenants = 1000;
  std::string tenant_prefix = "bench-";
  int connections = 1;
  int streams = 32;
  std::chrono::milliseconds duration{10'000};
  std::chrono::milliseconds delivery_timeout{30'000};
  int sink_port = 0;    // must be the port SLACK_ALLOWED_HOSTS lists
  std::string tls_dir;  // ca.pem (the server's PAYBELL_CA_FILE), server.pem, server.key
};

// What the server needs for `emit` (see emit-setup): SLACK_ALLOWED_HOSTS, PAYBELL_CA_FILE and
// PAYBELL_DEBOUNCE_S. Creates the throwaway PKI in `tls_dir` and, with `sink_port` 0, picks a
// free loopback port. {"sink_port", "tls_dir", "server_env": {...}}
nlohmann::json PrepareEmit(const std::string& tls_dir, int sink_port);

// {"scenario":"emit","decisions","queued","suppressed","decisions_per_s","p50_ms","p99_ms",
//  "delivered","deliveries_per_s","errors","errors_by_code","sink_posts","duration_s"}
nlohmann::json RunEmitScenario(const EmitOptions& options);

}  // namespace paybell::bench

// `paybell-bench-load rpc`: GetSubscription or the health check at a fixed number of calls in
// flight, counting every answer by its gRPC status code.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

namespace paybell::bench {

struct RpcOptions {
  std::string target;
  std::string token;
  std::string method = "get-subscription";  // or "health"
  int tenants = 1000;
  std::string tenant_prefix = "bench-";
  int connections = 4;
  int streams = 32;
  std::chrono::milliseconds duration{10'000};
  std::chrono::milliseconds warmup{0};
};

// {"scenario","calls","ok","errors","errors_by_code","rps","p50_ms","p99_ms","duration_s"};
// throws std::runtime_error when the server cannot be reached.
nlohmann::json RunRpcScenario(const RpcOptions& options);

}  // namespace paybell::bench

// `paybell-bench-load startup`: how long a server command takes from exec to answering the gRPC
// health check SERVING.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace paybell::bench {

// Starts `command` (environment inherited), polls grpc.health.v1.Health/Check at `target` every
// millisecond until SERVING (10 s deadline), then stops it (SIGTERM, SIGKILL after 5 s).
// {"scenario":"startup","ready_ms","exit_code"}; throws std::runtime_error when the command
// cannot start, exits first, or is not SERVING by the deadline.
nlohmann::json RunStartupScenario(const std::string& target,
                                  const std::vector<std::string>& command);

}  // namespace paybell::bench

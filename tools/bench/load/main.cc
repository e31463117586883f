// paybell-bench-load: the gRPC load client of tools/bench/run. Each subcommand prints one JSON
// line; the exit code is non-zero only for usage errors and a server that cannot be reached.
#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>

#include "tools/bench/load/emit_scenario.h"
#include "tools/bench/load/rpc_scenario.h"
#include "tools/bench/load/startup_scenario.h"

namespace {

constexpr char kEmitHelp[] =
    R"(Emit at --streams in flight across the tenants, then wait for the Slack stand-in.

Slack URLs must be https on a host listed in SLACK_ALLOWED_HOSTS (a loopback address only when
host:port is listed exactly), so the server must be started with:
  SLACK_ALLOWED_HOSTS=127.0.0.1:<sink port>
  PAYBELL_CA_FILE=<tls dir>/ca.pem      (the stand-in's throwaway CA)
  PAYBELL_DEBOUNCE_S=1                  (the minimum; 0 is refused. With the default 900 s only
                                         the first emit per tenant and trigger is queued)
`paybell-bench-load emit-setup --tls-dir DIR` makes the CA and picks the port, and prints
these as {"sink_port", "tls_dir", "server_env": {...}}. SMTP_URL unset keeps email off.
The token must be an operator's (UpdateSettings configures each tenant's Slack URL first).
Emits cycle over the tenants, the trigger kind changing once per lap, so one tenant and trigger
comes back every 5 x tenants emits. "decisions" counts Emit calls answered OK, "queued" and
"suppressed" their Slack decisions, "delivered" the queued messages that reached the stand-in
(digests of suppressed events arrive too: counted in sink_posts only).)";

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"paybell-bench-load: gRPC load for Paybell benchmarks (one JSON line per run)"};
  cli.require_subcommand(1);

  paybell::bench::RpcOptions rpc;
  double rpc_duration_s = 10, rpc_warmup_s = 0;
  auto* rpc_cmd = cli.add_subcommand("rpc", "GetSubscription or the health check under load");
  rpc_cmd->add_option("--target", rpc.target, "server address HOST:PORT")->required();
  rpc_cmd->add_option("--token", rpc.token, "bearer token (service or operator)");
  rpc_cmd->add_option("--method", rpc.method, "what to call")
      ->check(CLI::IsMember({"get-subscription", "health"}))
      ->capture_default_str();
  rpc_cmd->add_option("--tenants", rpc.tenants, "tenants <prefix>0000… round robin")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  rpc_cmd->add_option("--tenant-prefix", rpc.tenant_prefix)->capture_default_str();
  rpc_cmd->add_option("--connections", rpc.connections, "channels, one connection each")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  rpc_cmd->add_option("--streams", rpc.streams, "calls in flight per connection")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  rpc_cmd->add_option("--duration", rpc_duration_s, "seconds measured")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  rpc_cmd->add_option("--warmup", rpc_warmup_s, "seconds of load before measuring")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();

  paybell::bench::EmitOptions emit;
  double emit_duration_s = 10, delivery_timeout_s = 30;
  auto* emit_cmd = cli.add_subcommand("emit", kEmitHelp);
  emit_cmd->add_option("--target", emit.target, "server address HOST:PORT")->required();
  emit_cmd->add_option("--token", emit.token, "operator bearer token")->required();
  emit_cmd->add_option("--tenants", emit.tenants)
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  emit_cmd->add_option("--tenant-prefix", emit.tenant_prefix)->capture_default_str();
  emit_cmd->add_option("--connections", emit.connections, "channels")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  emit_cmd->add_option("--streams", emit.streams, "Emit calls in flight in all")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  emit_cmd->add_option("--duration", emit_duration_s, "seconds of Emit calls")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  emit_cmd
      ->add_option("--delivery-timeout", delivery_timeout_s,
                   "seconds to wait for the queued messages afterwards")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  std::string slack_listen;
  auto* sink_port = emit_cmd
                        ->add_option("--sink-port", emit.sink_port,
                                     "the stand-in's port, the one SLACK_ALLOWED_HOSTS lists")
                        ->check(CLI::Range(1, 65535));
  emit_cmd->add_option("--slack-listen", slack_listen, "the same as 127.0.0.1:PORT")
      ->excludes(sink_port);
  emit_cmd->add_option("--tls-dir", emit.tls_dir, "emit-setup's directory (ca.pem, server.*)")
      ->required()
      ->check(CLI::ExistingDirectory);

  std::string setup_dir;
  int setup_port = 0;
  auto* setup_cmd = cli.add_subcommand(
      "emit-setup", "make the Slack stand-in's throwaway CA and pick its port (before the server)");
  setup_cmd->add_option("--tls-dir", setup_dir, "directory for ca.pem, server.pem, server.key")
      ->required();
  setup_cmd->add_option("--sink-port", setup_port, "use this port (default: a free one)")
      ->check(CLI::Range(0, 65535));

  std::string startup_target;
  std::vector<std::string> startup_command;
  auto* startup_cmd = cli.add_subcommand(
      "startup", "time from exec to health SERVING: startup --target HOST:PORT -- CMD ARGS…");
  startup_cmd->add_option("--target", startup_target, "where CMD serves gRPC")->required();
  startup_cmd->add_option("command", startup_command, "the server command, after --")->required();

  CLI11_PARSE(cli, argc, argv);

  try {
    nlohmann::json result;
    if (*rpc_cmd) {
      if (rpc.method == "get-subscription" && rpc.token.empty()) {
        std::cerr << "--token is required for get-subscription\n";
        return 2;
      }
      rpc.duration = std::chrono::milliseconds(static_cast<int64_t>(rpc_duration_s * 1000));
      rpc.warmup = std::chrono::milliseconds(static_cast<int64_t>(rpc_warmup_s * 1000));
      result = paybell::bench::RunRpcScenario(rpc);
    } else if (*emit_cmd) {
      if (!slack_listen.empty()) {
        const std::string loopback = "127.0.0.1:";
        if (slack_listen.rfind(loopback, 0) != 0) {
          std::cerr << "--slack-listen must be 127.0.0.1:PORT\n";
          return 2;
        }
        emit.sink_port = std::atoi(slack_listen.c_str() + loopback.size());
      }
      if (emit.sink_port <= 0 || emit.sink_port > 65535) {
        std::cerr << "emit needs --sink-port PORT (or --slack-listen 127.0.0.1:PORT)\n";
        return 2;
      }
      emit.duration = std::chrono::milliseconds(static_cast<int64_t>(emit_duration_s * 1000));
      emit.delivery_timeout =
          std::chrono::milliseconds(static_cast<int64_t>(delivery_timeout_s * 1000));
      result = paybell::bench::RunEmitScenario(emit);
    } else if (*setup_cmd) {
      result = paybell::bench::PrepareEmit(setup_dir, setup_port);
    } else {
      result = paybell::bench::RunStartupScenario(startup_target, startup_command);
    }
    std::cout << result.dump() << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "paybell-bench-load: " << e.what() << "\n";
    return 1;
  }
}

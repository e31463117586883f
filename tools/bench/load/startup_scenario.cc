#include "tools/bench/load/startup_scenario.h"

#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <thread>

#include "grpc/health/v1/health.grpc.pb.h"

namespace paybell::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;
using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

pid_t Spawn(const std::vector<std::string>& command) {
  std::vector<char*> argv;
  for (const std::string& arg : command) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    execvp(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

// The exit code (128 + signal when killed), once the child has exited; nullopt while it runs.
std::optional<int> Reaped(pid_t pid, bool block) {
  int status = 0;
  const pid_t r = waitpid(pid, &status, block ? 0 : WNOHANG);
  if (r != pid) return std::nullopt;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int Stop(pid_t pid) {
  kill(pid, SIGTERM);
  const auto deadline = SteadyClock::now() + std::chrono::seconds(5);
  while (SteadyClock::now() < deadline) {
    if (const auto code = Reaped(pid, false)) return *code;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  kill(pid, SIGKILL);
  return Reaped(pid, true).value_or(-1);
}

}  // namespace

nlohmann::json RunStartupScenario(const std::string& target,
                                  const std::vector<std::string>& command) {
  if (command.empty()) throw std::runtime_error("no command to start");
  // Reconnect at once: gRPC's default backoff (1 s, growing) would measure the backoff.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 1);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 1);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1);
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto channel = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
  auto health = Health::NewStub(channel);

  const SteadyClock::time_point started = SteadyClock::now();
  const pid_t pid = Spawn(command);
  const SteadyClock::time_point deadline = started + std::chrono::seconds(10);
  std::optional<double> ready_ms;
  std::string last_answer = "no answer";
  while (SteadyClock::now() < deadline) {
    if (const auto code = Reaped(pid, false)) {
      throw std::runtime_error(command[0] + " exited with " + std::to_string(*code) +
                               " before it was SERVING");
    }
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(100));
    HealthCheckResponse response;
    const grpc::Status status = health->Check(&context, HealthCheckRequest(), &response);
    if (status.ok() && response.status() == HealthCheckResponse::SERVING) {
      ready_ms = std::chrono::duration<double, std::milli>(SteadyClock::now() - started).count();
      break;
    }
    last_answer = status.ok() ? HealthCheckResponse::ServingStatus_Name(response.status())
                              : status.error_message();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const int exit_code = Stop(pid);
  if (!ready_ms) {
    throw std::runtime_error(command[0] + " was not SERVING at " + target +
                             " within 10 s (last answer: " + last_answer + ")");
  }
  return {{"scenario", "startup"}, {"ready_ms", *ready_ms}, {"exit_code", exit_code}};
}

}  // namespace paybell::bench

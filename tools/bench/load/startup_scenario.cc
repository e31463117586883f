#include "tools/bench/load/startup_scenario.h"

#include <grpcpp/grpcpp.h>
#include <netdb.h>
#include <signal.h>
#include <sys/socket.h>
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

// Whether something accepts TCP connections at `target` ("host:port", "[v6]:port").
bool Accepts(const std::string& target) {
  const size_t colon = target.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error("--target must be HOST:PORT");
  std::string host = target.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), target.c_str() + colon + 1, &hints, &found) != 0) return false;
  bool accepted = false;
  for (addrinfo* a = found; a != nullptr && !accepted; a = a->ai_next) {
    const int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    accepted = connect(fd, a->ai_addr, a->ai_addrlen) == 0;
    close(fd);
  }
  freeaddrinfo(found);
  return accepted;
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
  const SteadyClock::time_point started = SteadyClock::now();
  const pid_t pid = Spawn(command);
  const SteadyClock::time_point deadline = started + std::chrono::seconds(10);
  std::optional<double> ready_ms;
  std::string last_answer = "nothing listening";
  auto exited = [&] {
    if (const auto code = Reaped(pid, false)) {
      throw std::runtime_error(command[0] + " exited with " + std::to_string(*code) +
                               " before it was SERVING");
    }
  };
  // First the port: a gRPC channel that failed to connect waits out its reconnect backoff,
  // which would be measured instead of the server.
  bool listening = false;
  while (!listening && SteadyClock::now() < deadline) {
    exited();
    listening = Accepts(target);
    if (!listening) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (listening) {
    auto health = Health::NewStub(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
    while (SteadyClock::now() < deadline) {
      exited();
      grpc::ClientContext context;
      context.set_deadline(
          std::min(std::chrono::system_clock::now() + std::chrono::seconds(1),
                   std::chrono::system_clock::now() + (deadline - SteadyClock::now())));
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
  }
  const int exit_code = Stop(pid);
  if (!ready_ms) {
    throw std::runtime_error(command[0] + " was not SERVING at " + target +
                             " within 10 s (last answer: " + last_answer + ")");
  }
  return {{"scenario", "startup"}, {"ready_ms", *ready_ms}, {"exit_code", exit_code}};
}

}  // namespace paybell::bench

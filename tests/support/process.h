// A child process for end-to-end tests: started with an explicit environment, its stderr and
// stdout collected, stopped (SIGTERM, then SIGKILL after a deadline) when the test ends.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace paybell::testing {

class ChildProcess {
 public:
  // `env` is the whole environment of the child (nothing is inherited but PATH and HOME).
  ChildProcess(const std::string& binary, const std::vector<std::string>& args,
               const std::map<std::string, std::string>& env);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Waits until the output contains `needle`; returns the output so far, or nullopt on timeout
  // or when the process exited first.
  std::optional<std::string> WaitForOutput(const std::string& needle,
                                           std::chrono::milliseconds timeout);
  // Waits for the process to exit on its own; returns its exit code (128+signal when killed),
  // or nullopt on timeout.
  std::optional<int> WaitForExit(std::chrono::milliseconds timeout);
  // SIGTERM, wait up to `timeout`, then SIGKILL. Returns the exit code.
  int Stop(std::chrono::milliseconds timeout = std::chrono::seconds(20));

  std::string output() const;
  pid_t pid() const { return pid_; }

 private:
  void ReadOutput(int fd);
  bool Reap(bool block);

  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::thread reader_;
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::string output_;
  bool output_closed_ = false;
};

// Starts paybell-server (path from PAYBELL_SERVER_BIN, set by CTest) on a free port and waits
// for its start-up line; grpc_port() is the port it bound. The HTTP adapter is off unless
// `extra_env` sets PAYBELL_HTTP_LISTEN (e.g. "127.0.0.1:0"); http_port() is then its port.
class ServerProcess {
 public:
  ServerProcess(const std::string& data_dir, std::map<std::string, std::string> extra_env = {});
  int grpc_port() const { return grpc_port_; }
  std::string grpc_target() const { return "127.0.0.1:" + std::to_string(grpc_port_); }
  int http_port() const { return http_port_; }
  ChildProcess& process() { return process_; }

 private:
  ChildProcess process_;
  int grpc_port_ = 0;
  int http_port_ = 0;
};

// The path a CTest-provided variable names; aborts the test with a clear message otherwise.
std::string RequiredEnv(const char* name);

}  // namespace paybell::testing

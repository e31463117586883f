#include "tests/support/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <regex>
#include <stdexcept>

namespace paybell::testing {

std::string RequiredEnv(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    throw std::runtime_error(std::string(name) + " is not set (CTest sets it; run via ctest)");
  }
  return value;
}

ChildProcess::ChildProcess(const std::string& binary, const std::vector<std::string>& args,
                           const std::map<std::string, std::string>& env) {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");

  std::vector<std::string> env_strings;
  for (const char* inherited : {"PATH", "HOME"}) {
    if (const char* v = std::getenv(inherited); v != nullptr && env.count(inherited) == 0) {
      env_strings.push_back(std::string(inherited) + "=" + v);
    }
  }
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_strings = {binary};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);

  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    dup2(pipe_fds[1], STDOUT_FILENO);
    dup2(pipe_fds[1], STDERR_FILENO);
    // Nothing else of the test's: its sockets (cpp-httplib's are not close-on-exec) would stay
    // open in a daemon the child leaves behind, such as the postmaster pg_ctl starts.
    close_range(3, ~0U, 0);
    // Unblock signals the test runner may have blocked, so SIGTERM reaches the server's sigwait.
    // Die with the test runner, so a killed ctest leaves no server behind.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execve(binary.c_str(), argv.data(), envp.data());
    const char msg[] = "exec failed\n";
    (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
    _exit(127);
  }
  close(pipe_fds[1]);
  reader_ = std::thread([this, fd = pipe_fds[0]] { ReadOutput(fd); });
}

ChildProcess::~ChildProcess() {
  if (!exit_code_) Stop(std::chrono::seconds(10));
  if (reader_.joinable()) reader_.join();
}

void ChildProcess::ReadOutput(int fd) {
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    std::lock_guard<std::mutex> lock(mu_);
    output_.append(buf, static_cast<size_t>(n));
    changed_.notify_all();
  }
  close(fd);
  std::lock_guard<std::mutex> lock(mu_);
  output_closed_ = true;
  changed_.notify_all();
}

std::optional<std::string> ChildProcess::WaitForOutput(const std::string& needle,
                                                       std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  const bool found = changed_.wait_for(
      lock, timeout, [&] { return output_.find(needle) != std::string::npos || output_closed_; });
  if (!found || output_.find(needle) == std::string::npos) return std::nullopt;
  return output_;
}

bool ChildProcess::Reap(bool block) {
  if (exit_code_) return true;
  int status = 0;
  const pid_t r = waitpid(pid_, &status, block ? 0 : WNOHANG);
  if (r != pid_) return false;
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return true;
}

std::optional<int> ChildProcess::WaitForExit(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!Reap(false)) {
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    // Polling waitpid: there is no portable way to wait on a child with a timeout.
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // The child is gone, but the reader may not have drained the pipe yet: wait for the end of
  // its output, so output() after WaitForExit holds everything it printed. (A grandchild that
  // kept the pipe open would hold this up to the deadline, no longer.)
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait_until(lock, deadline, [&] { return output_closed_; });
  return exit_code_;
}

int ChildProcess::Stop(std::chrono::milliseconds timeout) {
  if (exit_code_) return *exit_code_;
  kill(pid_, SIGTERM);
  if (auto code = WaitForExit(timeout)) return *code;
  kill(pid_, SIGKILL);
  Reap(true);
  return *exit_code_;
}

std::string ChildProcess::output() const {
  std::lock_guard<std::mutex> lock(mu_);
  return output_;
}

namespace {

std::map<std::string, std::string> ServerEnv(const std::string& data_dir,
                                             std::map<std::string, std::string> extra) {
  extra.emplace("PAYBELL_DATA_DIR", data_dir);
  extra.emplace("PAYBELL_GRPC_LISTEN", "127.0.0.1:0");
  extra.emplace("PAYBELL_HTTP_LISTEN", "");
  return extra;
}

}  // namespace

ServerProcess::ServerProcess(const std::string& data_dir,
                             std::map<std::string, std::string> extra_env)
    : process_(RequiredEnv("PAYBELL_SERVER_BIN"), {}, ServerEnv(data_dir, std::move(extra_env))) {
  const auto output = process_.WaitForOutput("grpc_port=", std::chrono::seconds(30));
  if (!output) {
    throw std::runtime_error("paybell-server did not start; output:\n" + process_.output());
  }
  std::smatch match;
  static const std::regex kPort("grpc_port=(\\d+)");
  if (!std::regex_search(*output, match, kPort)) {
    throw std::runtime_error("no grpc_port in start-up line:\n" + *output);
  }
  grpc_port_ = std::stoi(match[1]);
  static const std::regex kHttpPort("http_port=(\\d+)");
  if (std::regex_search(*output, match, kHttpPort)) http_port_ = std::stoi(match[1]);
}

}  // namespace paybell::testing

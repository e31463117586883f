#include "tests/support/postgres_cluster.h"

#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

#include "tests/support/process.h"

namespace paybell::testing {
namespace {

namespace fs = std::filesystem;

constexpr auto kToolTimeout = std::chrono::seconds(60);

// The newest /usr/lib/postgresql/<major>/bin, as tools/test picks it.
std::string NewestPostgresBinDir() {
  std::string best;
  int best_major = -1;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const std::string bin = entry.path().string() + "/bin";
    if (access((bin + "/initdb").c_str(), X_OK) != 0) continue;
    int major = -1;
    try {
      major = std::stoi(entry.path().filename().string());
    } catch (const std::exception&) {
      continue;
    }
    if (major > best_major) {
      best_major = major;
      best = bin;
    }
  }
  if (best.empty()) {
    throw std::runtime_error(
        "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin "
        "(install the postgresql package)");
  }
  return best;
}

std::string RunuserPath() {
  for (const char* path : {"/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"}) {
    if (access(path, X_OK) == 0) return path;
  }
  throw std::runtime_error("running as root, but runuser is missing (util-linux)");
}

}  // namespace

int FreePortBelowEphemeralRange() {
  int ephemeral_low = 32768;
  std::ifstream("/proc/sys/net/ipv4/ip_local_port_range") >> ephemeral_low;
  const int low = std::max(1024, ephemeral_low - 20000);
  std::random_device random;
  std::uniform_int_distribution<int> pick(low, ephemeral_low - 1);
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int port = pick(random);
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error("socket failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    const bool bound = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    close(fd);
    if (bound) return port;
  }
  throw std::runtime_error("no free loopback port below " + std::to_string(ephemeral_low));
}

PostgresCluster::PostgresCluster()
    : bin_dir_(NewestPostgresBinDir()), as_postgres_user_(geteuid() == 0) {
  if (as_postgres_user_) {
    const passwd* pg = getpwnam("postgres");
    if (pg == nullptr) throw std::runtime_error("running as root, but there is no postgres user");
    if (chown(dir_.path().c_str(), pg->pw_uid, pg->pw_gid) != 0) {
      throw std::runtime_error("cannot chown " + dir_.path() + " to postgres");
    }
  }
  RunTool("initdb", {"-D", data_dir(), "-A", "trust", "-U", "paybell", "-E", "UTF8", "--no-sync"},
          kToolTimeout);
  // Another test may take the port before PostgreSQL binds it: try a few.
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (TryStart(FreePortBelowEphemeralRange())) return;
  }
  throw std::runtime_error("PostgreSQL did not start on any of 5 free ports; its log:\n" + log());
}

PostgresCluster::~PostgresCluster() {
  std::error_code ec;
  if (!fs::exists(data_dir() + "/postmaster.pid", ec)) return;
  try {
    RunTool("pg_ctl", {"-D", data_dir(), "-m", "immediate", "-w", "stop"}, kToolTimeout);
  } catch (const std::exception&) {
    // Already stopped; the directory goes either way.
  }
}

std::string PostgresCluster::url() const {
  return "postgresql://paybell@127.0.0.1:" + std::to_string(port_) + "/postgres";
}

std::string PostgresCluster::log() const {
  std::ifstream in(dir_.File("log"));
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void PostgresCluster::RunTool(const std::string& tool, const std::vector<std::string>& args,
                              std::chrono::seconds timeout) const {
  std::string binary = bin_dir_ + "/" + tool;
  std::vector<std::string> argv = args;
  if (as_postgres_user_) {
    argv.insert(argv.begin(), {"-u", "postgres", "--", binary});
    binary = RunuserPath();
  }
  ChildProcess process(binary, argv, {});
  const auto code = process.WaitForExit(timeout);
  if (!code) process.Stop(std::chrono::seconds(5));
  if (code != 0) {
    throw std::runtime_error(tool + " " + (args.empty() ? "" : args.back()) + " failed (" +
                             (code ? "exit " + std::to_string(*code) : "timed out") + "):\n" +
                             process.output());
  }
}

bool PostgresCluster::TryStart(int port) {
  try {
    // The log file keeps the postmaster off pg_ctl's stdout, so pg_ctl's output pipe closes
    // when pg_ctl exits.
    RunTool("pg_ctl",
            {"-D", data_dir(), "-l", dir_.File("log"), "-w", "-t", "30", "-o",
             "-k '" + dir_.path() + "' -p " + std::to_string(port) +
                 " -c listen_addresses=127.0.0.1 -c fsync=off",
             "start"},
            kToolTimeout);
  } catch (const std::runtime_error&) {
    return false;
  }
  port_ = port;
  return true;
}

void PostgresCluster::Start() {
  if (!TryStart(port_)) {
    throw std::runtime_error("PostgreSQL did not start again on port " + std::to_string(port_) +
                             "; its log:\n" + log());
  }
}

void PostgresCluster::Stop() {
  RunTool("pg_ctl", {"-D", data_dir(), "-m", "fast", "-w", "stop"}, kToolTimeout);
}

}  // namespace paybell::testing

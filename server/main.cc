// paybell-server: reads the configuration, builds the server, serves until SIGTERM/SIGINT.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <iostream>

#include "server/app/embedded_server.h"
#include "server/common/config.h"
#include "server/common/logging.h"

namespace {

constexpr auto kDrainTimeout = std::chrono::seconds(20);

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"paybell-server: Paybell's billing and notification gRPC server"};
  std::map<std::string, std::string> flags;
  std::string grpc_listen, http_listen, data_dir, database_url;
  auto* grpc_opt =
      cli.add_option("--grpc-listen", grpc_listen, "gRPC address (PAYBELL_GRPC_LISTEN)");
  auto* http_opt = cli.add_option("--http-listen", http_listen,
                                  "HTTP adapter address, empty disables (PAYBELL_HTTP_LISTEN)");
  auto* dir_opt = cli.add_option("--data-dir", data_dir, "data directory (PAYBELL_DATA_DIR)");
  auto* db_opt = cli.add_option("--database-url", database_url,
                                "sqlite:PATH or postgresql://… (DATABASE_URL)");
  CLI11_PARSE(cli, argc, argv);
  if (grpc_opt->count() > 0) flags["PAYBELL_GRPC_LISTEN"] = grpc_listen;
  if (http_opt->count() > 0) flags["PAYBELL_HTTP_LISTEN"] = http_listen;
  if (dir_opt->count() > 0) flags["PAYBELL_DATA_DIR"] = data_dir;
  if (db_opt->count() > 0) flags["DATABASE_URL"] = database_url;

  // Block the stop signals in every thread (gRPC's included) and wait for them here, so no
  // work happens inside a signal handler.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  paybell::common::Config config;
  try {
    config = paybell::common::LoadConfig(paybell::common::ProcessEnv(), flags);
  } catch (const paybell::common::ConfigError& e) {
    std::cerr << "paybell-server: configuration error: " << e.what() << "\n";
    return 2;
  }
  paybell::common::InitLogging(config.log_format, config.log_level);

  const paybell::common::SystemClock clock;
  std::unique_ptr<paybell::app::EmbeddedServer> app;
  try {
    app = std::make_unique<paybell::app::EmbeddedServer>(config, clock);
    app->Start();
  } catch (const std::exception& e) {
    spdlog::critical("paybell-server cannot start: {}", e.what());
    return 1;
  }
  spdlog::info("paybell-server started: {} grpc_port={} http_port={}", app->config().Describe(),
               app->grpc_port(), app->http_port());

  int signal = 0;
  sigwait(&stop_signals, &signal);
  spdlog::info("received {}; draining in-flight calls (up to {}s)",
               signal == SIGTERM ? "SIGTERM" : "SIGINT", kDrainTimeout.count());
  app->Shutdown(kDrainTimeout);
  spdlog::info("paybell-server stopped");
  return 0;
}

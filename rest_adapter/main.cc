// paybell-rest: the HTTP adapter as its own process, calling a remote paybell-server.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <iostream>

#include "rest_adapter/health_probe.h"
#include "rest_adapter/rest_adapter.h"
#include "server/common/config.h"
#include "server/common/logging.h"

int main(int argc, char** argv) {
  CLI::App cli{"paybell-rest: Paybell's HTTP adapter in front of a remote paybell-server"};
  std::string grpc_target = "127.0.0.1:50051";
  std::string http_listen;
  cli.add_option("--grpc-target", grpc_target, "paybell-server's gRPC address");
  auto* http_opt =
      cli.add_option("--http-listen", http_listen, "HTTP address (PAYBELL_HTTP_LISTEN)");
  CLI11_PARSE(cli, argc, argv);

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  std::map<std::string, std::string> flags;
  if (http_opt->count() > 0) flags["PAYBELL_HTTP_LISTEN"] = http_listen;
  paybell::common::Config config;
  try {
    config = paybell::common::LoadConfig(paybell::common::ProcessEnv(), flags);
  } catch (const paybell::common::ConfigError& e) {
    std::cerr << "paybell-rest: configuration error: " << e.what() << "\n";
    return 2;
  }
  paybell::common::InitLogging(config.log_format, config.log_level);
  if (config.http_listen.empty()) {
    std::cerr << "paybell-rest: PAYBELL_HTTP_LISTEN: must not be empty for paybell-rest\n";
    return 2;
  }

  auto channel = grpc::CreateChannel(grpc_target, grpc::InsecureChannelCredentials());
  paybell::rest::RestAdapter adapter(
      [channel] { return paybell::rest::IsServing(channel, std::chrono::seconds(2)); });
  try {
    const int port = adapter.Bind(config.http_listen);
    // Without APP_URL, the pages accept posts from this adapter's own address.
    adapter.Start(channel,
                  paybell::rest::WebOptions{paybell::common::EffectiveAppUrl(config, port)});
  } catch (const std::exception& e) {
    spdlog::critical("paybell-rest cannot start: {}", e.what());
    return 1;
  }
  spdlog::info("paybell-rest started: http={} http_port={} grpc_target={}", config.http_listen,
               adapter.port(), grpc_target);
  int signal = 0;
  sigwait(&stop_signals, &signal);
  adapter.Stop();
  spdlog::info("paybell-rest stopped");
  return 0;
}

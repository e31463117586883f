// paybell-server as one process: the gRPC server plus, unless PAYBELL_HTTP_LISTEN is empty, the
// HTTP adapter calling it over an in-process channel. main.cc and in-process tests use this.
#pragma once

#include <chrono>
#include <memory>

#include "rest_adapter/rest_adapter.h"
#include "server/app/server_app.h"

namespace paybell::app {

class EmbeddedServer {
 public:
  // See ServerApp: prepares everything that can fail before serving.
  EmbeddedServer(common::Config config, const common::Clock& clock);
  ~EmbeddedServer();

  // Starts gRPC, then the adapter; throws when an address cannot be bound.
  void Start();
  // Stops the adapter first (no new HTTP requests), then drains gRPC for up to `drain`.
  void Shutdown(std::chrono::milliseconds drain);

  ServerApp& app() { return app_; }
  const common::Config& config() const { return app_.config(); }
  int grpc_port() const { return app_.grpc_port(); }
  std::string grpc_address() const { return app_.grpc_address(); }
  // The bound HTTP port; 0 when the adapter is disabled.
  int http_port() const { return rest_ ? rest_->port() : 0; }
  std::shared_ptr<grpc::Channel> InProcessChannel() { return app_.InProcessChannel(); }

 private:
  ServerApp app_;
  std::unique_ptr<rest::RestAdapter> rest_;
};

}  // namespace paybell::app

#include "server/app/embedded_server.h"

namespace paybell::app {

EmbeddedServer::EmbeddedServer(common::Config config, const common::Clock& clock)
    : app_(std::move(config), clock) {}

EmbeddedServer::~EmbeddedServer() { Shutdown(std::chrono::milliseconds(0)); }

void EmbeddedServer::Start() {
  app_.Start();
  if (!app_.config().http_listen.empty()) {
    rest_ = std::make_unique<rest::RestAdapter>(app_.InProcessChannel(),
                                                [this] { return app_.DatabaseReachable(); });
    rest_->Start(app_.config().http_listen);
  }
}

void EmbeddedServer::Shutdown(std::chrono::milliseconds drain) {
  if (rest_) {
    rest_->Stop();
    rest_.reset();
  }
  app_.Shutdown(drain);
}

}  // namespace paybell::app

#include "server/app/embedded_server.h"

namespace paybell::app {

EmbeddedServer::EmbeddedServer(common::Config config, const common::Clock& clock)
    : app_(std::move(config), clock) {}

EmbeddedServer::~EmbeddedServer() { Shutdown(std::chrono::milliseconds(0)); }

void EmbeddedServer::Start() {
  if (app_.config().http_listen.empty()) {
    app_.Start();
    return;
  }
  // The adapter's port first, so that links (checkout return URLs, notification links, the
  // pages' own origin) point at it when APP_URL is not given — also for port 0.
  rest_ = std::make_unique<rest::RestAdapter>([this] { return app_.DatabaseReachable(); });
  const int http_port = rest_->Bind(app_.config().http_listen);
  app_.SetAppUrl(common::EffectiveAppUrl(app_.config(), http_port));
  app_.Start();
  rest_->Start(app_.InProcessChannel(), rest::WebOptions{app_.config().app_url});
}

void EmbeddedServer::Shutdown(std::chrono::milliseconds drain) {
  if (rest_) {
    rest_->Stop();
    rest_.reset();
  }
  app_.Shutdown(drain);
}

}  // namespace paybell::app

// The thin HTTP adapter: translates HTTP requests into gRPC calls on a channel (in-process when
// embedded in paybell-server, TCP in paybell-rest) and gRPC statuses back into HTTP.
#pragma once

#include <httplib.h>

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "paybell/v1/webhook.grpc.pb.h"
#include "server/common/limits.h"

namespace paybell::rest {

class RestAdapter {
 public:
  // `ready` answers /readyz (database reachable).
  RestAdapter(std::shared_ptr<grpc::Channel> channel, std::function<bool()> ready);
  ~RestAdapter();

  // Binds host:port (port 0: the OS picks) and serves on a background thread. Throws
  // std::runtime_error when the address cannot be bound.
  void Start(const std::string& listen);
  int port() const { return port_; }
  // Stops accepting and waits for the serving thread.
  void Stop();

 private:
  void HandleStripeWebhook(const httplib::Request& req, httplib::Response& res,
                           const httplib::ContentReader& content_reader);

  std::unique_ptr<v1::WebhookService::Stub> webhooks_;
  std::function<bool()> ready_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace paybell::rest

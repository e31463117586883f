// The thin HTTP adapter: translates HTTP requests into gRPC calls on a channel (in-process when
// embedded in paybell-server, TCP in paybell-rest) and gRPC statuses back into HTTP.
#pragma once

#include <httplib.h>

#include <functional>
#include <memory>
#include <string>

#include "paybell/v1/webhook.grpc.pb.h"
#include "rest_adapter/billing_api.h"
#include "rest_adapter/front_door.h"
#include "rest_adapter/web_pages.h"
#include "server/common/limits.h"

namespace paybell::rest {

class RestAdapter {
 public:
  // `ready` answers /readyz (database reachable). `limits`: the defaults are what production
  // runs; tests shorten the timeouts.
  explicit RestAdapter(std::function<bool()> ready, FrontDoorLimits limits = {});
  ~RestAdapter();

  // Binds host:port (port 0: the OS picks) and answers the bound port; nothing is served yet.
  // Throws std::runtime_error when the address cannot be bound. Binding first lets
  // paybell-server make its links (APP_URL) point at the real port before it serves.
  int Bind(const std::string& listen);
  // Serves on the bound address on background threads, calling the server over `channel`.
  void Start(std::shared_ptr<grpc::Channel> channel, const WebOptions& web);
  // Bind, then Start.
  void Start(const std::string& listen, std::shared_ptr<grpc::Channel> channel,
             const WebOptions& web);
  int port() const { return port_; }
  // Stops accepting, finishes the requests already read, and waits for the threads.
  void Stop();

 private:
  // cpp-httplib's request parsing, routing and response building, run by the front door on one
  // complete request at a time (never on the socket directly). Handlers answer with
  // set_content only: a Router is never bound, so cpp-httplib takes it for a stopped server and
  // would write a content provider's (set_content_provider) headers without its body.
  class Router : public httplib::Server {
   public:
    // See FrontDoor::Handler.
    bool Serve(httplib::Stream& stream, bool close_connection);
  };

  void HandleStripeWebhook(const httplib::Request& req, httplib::Response& res,
                           const httplib::ContentReader& content_reader);

  std::unique_ptr<v1::WebhookService::Stub> webhooks_;
  std::unique_ptr<BillingApi> billing_api_;
  std::unique_ptr<WebPages> web_pages_;
  std::function<bool()> ready_;
  Router router_;
  FrontDoor front_door_;
  int port_ = 0;
};

}  // namespace paybell::rest

#include "rest_adapter/rest_adapter.h"

#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "rest_adapter/http_status.h"
#include "server/common/request_id.h"

namespace paybell::rest {
namespace {

constexpr auto kGrpcDeadline = std::chrono::seconds(30);
constexpr char kRequestIdHeader[] = "X-Request-Id";

void SendJson(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

// Reads the body into `body`. The front door has already refused bodies over the limit (413) and
// read the whole request, so this only copies; the check keeps the handler's own guarantee.
bool ReadBody(httplib::Response& res, const httplib::ContentReader& content_reader,
              std::string* body) {
  const bool read_all = content_reader([&](const char* data, size_t size) {
    if (body->size() + size > common::kMaxStripeEventBytes) return false;
    body->append(data, size);
    return true;
  });
  if (!read_all) {
    SendJson(res, body->size() >= common::kMaxStripeEventBytes ? 413 : 400,
             {{"error", "could not read the request body"}});
    return false;
  }
  return true;
}

// Whether the response just written ends the connection (a handler set "Connection: close",
// or cpp-httplib did). Set by the logger, which cpp-httplib calls after writing each response
// on the thread serving it, and read by Router::Serve on that thread.
thread_local bool t_response_closes = false;

// Set by a handler whose request the server logged itself, with the same request id (a Stripe
// event it ingested): the access line then goes to debug, so the hot path writes one line per
// request, not two.
thread_local bool t_server_logged = false;

const std::string& RequestId(const httplib::Response& res) {
  static const std::string kNone;
  auto it = res.headers.find(kRequestIdHeader);
  return it == res.headers.end() ? kNone : it->second;
}

}  // namespace

bool RestAdapter::Router::Serve(httplib::Stream& stream, bool close_connection) {
  t_response_closes = false;
  t_server_logged = false;
  bool client_closes = false;
  const bool ok = process_request(stream, close_connection, client_closes, nullptr);
  return ok && !client_closes && !t_response_closes;
}

RestAdapter::RestAdapter(std::function<bool()> ready, FrontDoorLimits limits)
    : ready_(std::move(ready)),
      front_door_(limits, [this](httplib::Stream& stream, bool close_connection) {
        return router_.Serve(stream, close_connection);
      }) {
  // The Keep-Alive header cpp-httplib writes tells the truth about the front door's limits.
  router_.set_keep_alive_timeout(
      std::chrono::duration_cast<std::chrono::seconds>(limits.idle_timeout).count());
  router_.set_keep_alive_max_count(limits.max_requests_per_connection);

  // Every response carries X-Request-Id: the caller's when well-formed, else a new one. (The
  // front door's own refusals — 400, 408, 413, 414, 431, 503 — carry one too.)
  router_.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    std::string id = common::SanitizeRequestId(req.get_header_value(kRequestIdHeader));
    if (id.empty()) id = common::NewRequestId();
    res.set_header(kRequestIdHeader, id);
    return httplib::Server::HandlerResponse::Unhandled;
  });
  router_.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    t_response_closes = res.get_header_value("Connection") == "close";
    spdlog::log(t_server_logged ? spdlog::level::debug : spdlog::level::info,
                "http {} {} -> {} request_id={}", req.method, req.path, res.status, RequestId(res));
  });
}

RestAdapter::~RestAdapter() { Stop(); }

int RestAdapter::Bind(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  try {
    port_ = front_door_.Bind(host, std::stoi(listen.substr(colon + 1)));
  } catch (const std::exception&) {
    throw std::runtime_error("PAYBELL_HTTP_LISTEN: cannot listen on " + listen +
                             " (address in use?)");
  }
  return port_;
}

void RestAdapter::Start(std::shared_ptr<grpc::Channel> channel, const WebOptions& web) {
  webhooks_ = v1::WebhookService::NewStub(channel);
  web_pages_ = std::make_unique<WebPages>(channel, web);
  auto webhook = [this](const httplib::Request& req, httplib::Response& res,
                        const httplib::ContentReader& content_reader) {
    HandleStripeWebhook(req, res, content_reader);
  };
  billing_api_ =
      std::make_unique<BillingApi>(channel, web_pages_->app_origin(), web_pages_->secure_cookie());
  billing_api_->Register(router_);
  web_pages_->Register(router_);
  router_.Post("/stripe/webhook", webhook);
  router_.Post("/api/billing/stripe_webhook", webhook);
  router_.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    SendJson(res, 200, {{"status", "ok"}});
  });
  router_.Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
    const bool is_ready = ready_();
    SendJson(res, is_ready ? 200 : 503, {{"status", is_ready ? "ready" : "database unreachable"}});
  });
  front_door_.Start();
}

void RestAdapter::Start(const std::string& listen, std::shared_ptr<grpc::Channel> channel,
                        const WebOptions& web) {
  Bind(listen);
  Start(std::move(channel), web);
}

void RestAdapter::Stop() { front_door_.Stop(); }

void RestAdapter::HandleStripeWebhook(const httplib::Request& req, httplib::Response& res,
                                      const httplib::ContentReader& content_reader) {
  v1::IngestStripeEventRequest request;
  // The exact bytes: the signature covers them.
  if (!ReadBody(res, content_reader, request.mutable_payload())) return;
  // Stripe's header is printable ASCII ("t=…,v1=<hex>"). Anything else is refused here: a
  // proto3 string must be UTF-8, and a forged header is the caller's error, never a 500.
  const std::string signature = req.get_header_value("Stripe-Signature");
  if (!std::all_of(signature.begin(), signature.end(),
                   [](unsigned char c) { return c >= 0x20 && c < 0x7f; })) {
    SendJson(res, 400, {{"error", "malformed Stripe-Signature header"}});
    return;
  }
  request.set_signature_header(signature);
  v1::IngestStripeEventResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kGrpcDeadline);
  context.AddMetadata(common::kRequestIdMetadata, RequestId(res));
  const grpc::Status status = webhooks_->IngestStripeEvent(&context, request, &response);
  if (!status.ok()) {
    SendJson(res, HttpStatusFromGrpc(status.error_code()), {{"error", status.error_message()}});
    return;
  }
  // EVENT_OUTCOME_APPLIED → "applied"; a value this adapter does not know yet → "unknown".
  std::string outcome = v1::EventOutcome_Name(response.outcome());
  constexpr std::string_view kPrefix = "EVENT_OUTCOME_";
  outcome = outcome.size() > kPrefix.size() ? outcome.substr(kPrefix.size()) : "unknown";
  std::transform(outcome.begin(), outcome.end(), outcome.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  nlohmann::json body = {{"received", true}, {"event_id", response.event_id()}};
  body["outcome"] = outcome;
  body["duplicate"] = response.outcome() == v1::EVENT_OUTCOME_DUPLICATE;
  SendJson(res, 200, body);
  t_server_logged = true;  // "Stripe event … request_id=…"
}

}  // namespace paybell::rest

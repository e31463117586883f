#include "rest_adapter/rest_adapter.h"

#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>

#include "rest_adapter/http_status.h"
#include "server/common/request_id.h"

namespace paybell::rest {
namespace {

constexpr auto kGrpcDeadline = std::chrono::seconds(30);
constexpr int kHttpThreads = 32;
constexpr char kRequestIdHeader[] = "X-Request-Id";

void SendJson(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

// The announced length, or nullopt when absent or not a number (chunked bodies).
std::optional<uint64_t> ContentLength(const httplib::Request& req) {
  if (!req.has_header("Content-Length")) return std::nullopt;
  try {
    return std::stoull(req.get_header_value("Content-Length"));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// Past the limit, up to this much more is read and thrown away so the client, still sending,
// receives the 413 instead of a connection reset; beyond it the connection is simply closed.
constexpr uint64_t kMaxDiscardBytes = 4 << 20;

void RefuseTooLarge(httplib::Response& res, bool body_left_unread) {
  if (body_left_unread) res.set_header("Connection", "close");
  SendJson(res, 413, {{"error", "body over 1 MiB"}});
}

// Reads the body into `body`, keeping at most kMaxStripeEventBytes (the limit IngestStripeEvent
// holds over gRPC too) whether it comes with a Content-Length or chunked (cpp-httplib's own
// limit only applies to Content-Length). False, with 413 answered, when it is larger; memory
// stays bounded either way.
bool ReadBoundedBody(const httplib::Request& req, httplib::Response& res,
                     const httplib::ContentReader& content_reader, std::string* body) {
  if (auto length = ContentLength(req); length && *length > kMaxDiscardBytes) {
    RefuseTooLarge(res, /*body_left_unread=*/true);
    return false;
  }
  uint64_t total = 0;
  const bool read_all = content_reader([&](const char* data, size_t size) {
    total += size;
    if (total <= common::kMaxStripeEventBytes) {
      body->append(data, size);
      return true;
    }
    body->clear();
    return total <= kMaxDiscardBytes;
  });
  if (total > common::kMaxStripeEventBytes) {
    RefuseTooLarge(res, /*body_left_unread=*/!read_all);
    return false;
  }
  if (!read_all) {
    SendJson(res, 400, {{"error", "could not read the request body"}});
    return false;
  }
  return true;
}

const std::string& RequestId(const httplib::Response& res) {
  static const std::string kNone;
  auto it = res.headers.find(kRequestIdHeader);
  return it == res.headers.end() ? kNone : it->second;
}

}  // namespace

RestAdapter::RestAdapter(std::shared_ptr<grpc::Channel> channel, std::function<bool()> ready)
    : webhooks_(v1::WebhookService::NewStub(channel)), ready_(std::move(ready)) {
  // One thread per keep-alive connection (TOOLCHAIN.md): size the pool for Stripe's bursts.
  server_.new_task_queue = [] { return new httplib::ThreadPool(kHttpThreads); };
  // httplib refuses a Content-Length above this before any handler runs; the webhook enforces
  // its own, smaller limit while reading (ReadBoundedBody).
  server_.set_payload_max_length(kMaxDiscardBytes);
  server_.set_read_timeout(std::chrono::seconds(10));
  server_.set_write_timeout(std::chrono::seconds(10));

  // Every response carries X-Request-Id: the caller's when well-formed, else a new one. Set
  // before the body is read, so even a 413 carries it.
  server_.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    std::string id = common::SanitizeRequestId(req.get_header_value(kRequestIdHeader));
    if (id.empty()) id = common::NewRequestId();
    res.set_header(kRequestIdHeader, id);
    if (req.has_header("Content-Length") && req.has_header("Transfer-Encoding")) {
      // Two framings disagree about where the body ends: behind a proxy that picks the other
      // one, this is how requests are smuggled (RFC 9112 §6.1). Refused, and the answer says
      // the connection ends.
      res.set_header("Connection", "close");
      SendJson(res, 400, {{"error", "both Content-Length and Transfer-Encoding"}});
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  server_.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    spdlog::info("http {} {} -> {} request_id={}", req.method, req.path, res.status,
                 RequestId(res));
  });

  auto webhook = [this](const httplib::Request& req, httplib::Response& res,
                        const httplib::ContentReader& content_reader) {
    HandleStripeWebhook(req, res, content_reader);
  };
  // "Expect: 100-continue" with a body over the limit: refuse before the client sends it.
  server_.set_expect_100_continue_handler([](const httplib::Request& req, httplib::Response& res) {
    auto length = ContentLength(req);
    if (!length || *length <= common::kMaxStripeEventBytes) return 100;
    // cpp-httplib writes `res` for any answer but 100 and 417, so it must carry the status
    // (unset, the status line read "HTTP/1.1 -1").
    RefuseTooLarge(res, /*body_left_unread=*/true);
    return 413;
  });
  server_.Post("/stripe/webhook", webhook);
  server_.Post("/api/billing/stripe_webhook", webhook);
  // Where stub-mode checkout and portal links point (billing::kStripeNotConfiguredPath).
  server_.Get("/billing/stripe-not-configured", [](const httplib::Request&,
                                                   httplib::Response& res) {
    res.set_content(
        "<!doctype html><title>Stripe is not configured</title>"
        "<h1>Stripe is not configured</h1>"
        "<p>This Paybell server runs in stub mode: STRIPE_SECRET_KEY is not set, so no checkout "
        "or billing portal exists and nothing was charged. Set STRIPE_SECRET_KEY and the "
        "STRIPE_PRICE_* variables to take payments.</p>",
        "text/html; charset=utf-8");
  });
  server_.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    SendJson(res, 200, {{"status", "ok"}});
  });
  server_.Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
    const bool is_ready = ready_();
    SendJson(res, is_ready ? 200 : 503, {{"status", is_ready ? "ready" : "database unreachable"}});
  });
}

RestAdapter::~RestAdapter() { Stop(); }

void RestAdapter::Start(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  const int requested = std::stoi(listen.substr(colon + 1));
  port_ = requested == 0 ? server_.bind_to_any_port(host)
                         : (server_.bind_to_port(host, requested) ? requested : -1);
  if (port_ <= 0) {
    throw std::runtime_error("PAYBELL_HTTP_LISTEN: cannot listen on " + listen +
                             " (address in use?)");
  }
  thread_ = std::thread([this] { server_.listen_after_bind(); });
}

void RestAdapter::Stop() {
  if (!thread_.joinable()) return;
  server_.stop();
  thread_.join();
}

void RestAdapter::HandleStripeWebhook(const httplib::Request& req, httplib::Response& res,
                                      const httplib::ContentReader& content_reader) {
  v1::IngestStripeEventRequest request;
  // The exact bytes: the signature covers them.
  if (!ReadBoundedBody(req, res, content_reader, request.mutable_payload())) return;
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
}

}  // namespace paybell::rest

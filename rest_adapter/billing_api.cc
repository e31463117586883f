#include "rest_adapter/billing_api.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "rest_adapter/grpc_call.h"
#include "rest_adapter/http_status.h"
#include "rest_adapter/web_session.h"
#include "server/common/grpc_status.h"
#include "server/common/request_id.h"

namespace paybell::rest {
namespace {

using nlohmann::json;

void Fail(httplib::Response& res, grpc::StatusCode code, const std::string& message) {
  res.status = HttpStatusFromGrpc(code);
  res.set_content(
      json{{"success", false},
           {"error",
            {{"code", Lower(std::string(common::GrpcCodeName(code)))}, {"message", message}}}}
          .dump(),
      "application/json");
}

void Succeed(httplib::Response& res, json body) {
  body["success"] = true;
  res.status = 200;
  res.set_content(body.dump(), "application/json");
}

// The caller's bearer token and the tenant the request is about, or an error answered.
struct Caller {
  std::string token;
  std::string tenant_id;
};

std::optional<Caller> CallerOf(const httplib::Request& req, httplib::Response& res,
                               const std::string& app_origin, bool secure_cookie) {
  const std::string header = req.get_header_value("Authorization");
  Caller caller;
  if (header.empty()) {
    // A browser session: the cookie's token, used only with the session's CSRF token.
    const auto session = SessionFromRequest(req, secure_cookie);
    if (!session) {
      Fail(res, grpc::StatusCode::UNAUTHENTICATED,
           "an Authorization: Bearer token or a browser session is required");
      return std::nullopt;
    }
    const CsrfVerdict verdict =
        CheckCsrf(req, *session, app_origin, /*require_origin=*/req.method != "GET");
    if (verdict != CsrfVerdict::kOk) {
      Fail(res, grpc::StatusCode::PERMISSION_DENIED,
           "request refused: " + std::string(CsrfVerdictText(verdict)));
      return std::nullopt;
    }
    caller.token = session->token;
    caller.tenant_id = session->tenant_id;
    return caller;
  }
  constexpr std::string_view kBearer = "Bearer ";
  if (header.size() <= kBearer.size() || header.compare(0, kBearer.size(), kBearer) != 0) {
    Fail(res, grpc::StatusCode::UNAUTHENTICATED, "an Authorization: Bearer token is required");
    return std::nullopt;
  }
  caller.token = header.substr(kBearer.size());
  if (!IsTokenText(caller.token)) {
    Fail(res, grpc::StatusCode::UNAUTHENTICATED, "the bearer token is not a Paybell token");
    return std::nullopt;
  }
  // Which tenant: the token's claim. Only read here to build the request; the server verifies
  // the signature and refuses a token for another tenant.
  const auto claims = UnverifiedClaims(caller.token);
  if (!claims || !claims->contains("tenant_id") || !(*claims)["tenant_id"].is_string()) {
    Fail(res, grpc::StatusCode::UNAUTHENTICATED, "the bearer token is not a Paybell token");
    return std::nullopt;
  }
  caller.tenant_id = (*claims)["tenant_id"].get<std::string>();
  if (caller.tenant_id == "*") caller.tenant_id = req.get_param_value("tenant_id");
  return caller;
}

void Prepare(grpc::ClientContext& context, const Caller& caller, const httplib::Response& res) {
  PrepareCall(context, caller.token, res.get_header_value("X-Request-Id"));
}

json TimeOrNull(bool has, const google::protobuf::Timestamp& time) {
  return has ? json(time.seconds()) : json(nullptr);
}

}  // namespace

BillingApi::BillingApi(std::shared_ptr<grpc::Channel> channel, std::string app_origin,
                       bool secure_cookie)
    : billing_(v1::BillingService::NewStub(std::move(channel))),
      app_origin_(std::move(app_origin)),
      secure_cookie_(secure_cookie) {}

void BillingApi::Register(httplib::Server& server) {
  server.Post("/api/billing/create_checkout_session",
              [this](const httplib::Request& req, httplib::Response& res) {
                CreateCheckoutSession(req, res);
              });
  server.Get("/api/billing/portal_link",
             [this](const httplib::Request& req, httplib::Response& res) { PortalLink(req, res); });
  server.Get(
      "/api/billing/subscription",
      [this](const httplib::Request& req, httplib::Response& res) { Subscription(req, res); });
  server.Get("/api/billing/invoices",
             [this](const httplib::Request& req, httplib::Response& res) { Invoices(req, res); });
}

void BillingApi::CreateCheckoutSession(const httplib::Request& req, httplib::Response& res) {
  const auto caller = CallerOf(req, res, app_origin_, secure_cookie_);
  if (!caller) return;
  const json body = json::parse(req.body, nullptr, false);
  if (!body.is_object() || !body.contains("plan") || !body["plan"].is_string() ||
      (body.contains("coupon") && !body["coupon"].is_string() && !body["coupon"].is_null())) {
    Fail(res, grpc::StatusCode::INVALID_ARGUMENT,
         "expected a JSON object {\"plan\": \"starter|pro|firm\", \"coupon\": \"…\"}");
    return;
  }
  const auto plan = PlanFromWord(body["plan"].get<std::string>());
  if (!plan) {
    Fail(res, grpc::StatusCode::INVALID_ARGUMENT, "plan must be starter, pro or firm");
    return;
  }
  v1::CreateCheckoutSessionRequest request;
  request.set_tenant_id(caller->tenant_id);
  request.set_plan(*plan);
  if (body.contains("coupon") && body["coupon"].is_string()) {
    request.set_coupon_code(body["coupon"].get<std::string>());
  }
  grpc::ClientContext context;
  Prepare(context, *caller, res);
  v1::CreateCheckoutSessionResponse response;
  const grpc::Status status = billing_->CreateCheckoutSession(&context, request, &response);
  if (!status.ok()) return Fail(res, status.error_code(), status.error_message());
  Succeed(res, {{"checkout_url", response.checkout_url()},
                {"session_id", response.session_id()},
                {"stub", response.stub()}});
}

void BillingApi::PortalLink(const httplib::Request& req, httplib::Response& res) {
  const auto caller = CallerOf(req, res, app_origin_, secure_cookie_);
  if (!caller) return;
  v1::GetPortalLinkRequest request;
  request.set_tenant_id(caller->tenant_id);
  grpc::ClientContext context;
  Prepare(context, *caller, res);
  v1::GetPortalLinkResponse response;
  const grpc::Status status = billing_->GetPortalLink(&context, request, &response);
  if (!status.ok()) return Fail(res, status.error_code(), status.error_message());
  Succeed(res, {{"url", response.url()}, {"stub", response.stub()}});
}

void BillingApi::Subscription(const httplib::Request& req, httplib::Response& res) {
  const auto caller = CallerOf(req, res, app_origin_, secure_cookie_);
  if (!caller) return;
  v1::GetSubscriptionRequest request;
  request.set_tenant_id(caller->tenant_id);
  grpc::ClientContext context;
  Prepare(context, *caller, res);
  v1::Subscription s;
  const grpc::Status status = billing_->GetSubscription(&context, request, &s);
  if (!status.ok()) return Fail(res, status.error_code(), status.error_message());
  // Times are Unix seconds (null when unknown); plan and status are the stored words.
  Succeed(
      res,
      {{"subscription",
        {{"tenant_id", s.tenant_id()},
         {"plan",
          s.plan() == v1::PLAN_UNSPECIFIED ? "none" : EnumWord(v1::Plan_Name(s.plan()), "PLAN_")},
         {"status", EnumWord(v1::SubscriptionStatus_Name(s.status()), "SUBSCRIPTION_STATUS_")},
         {"entitled", s.entitled()},
         {"cancel_at_period_end", s.cancel_at_period_end()},
         {"current_period_start",
          TimeOrNull(s.has_current_period_start(), s.current_period_start())},
         {"current_period_end", TimeOrNull(s.has_current_period_end(), s.current_period_end())},
         {"trial_end", TimeOrNull(s.has_trial_end(), s.trial_end())},
         {"canceled_at", TimeOrNull(s.has_canceled_at(), s.canceled_at())}}}});
}

void BillingApi::Invoices(const httplib::Request& req, httplib::Response& res) {
  const auto caller = CallerOf(req, res, app_origin_, secure_cookie_);
  if (!caller) return;
  v1::ListInvoicesRequest request;
  request.set_tenant_id(caller->tenant_id);
  if (req.has_param("page_size")) {
    const std::string text = req.get_param_value("page_size");
    int size = -1;
    if (!text.empty() && text.size() <= 4 &&
        std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); })) {
      size = std::stoi(text);
    }
    if (size < 0) {
      Fail(res, grpc::StatusCode::INVALID_ARGUMENT,
           "page_size must be a whole number (at most 500 are returned)");
      return;
    }
    request.set_page_size(size);
  }
  request.set_page_token(req.get_param_value("page_token"));
  grpc::ClientContext context;
  Prepare(context, *caller, res);
  v1::ListInvoicesResponse response;
  const grpc::Status status = billing_->ListInvoices(&context, request, &response);
  if (!status.ok()) return Fail(res, status.error_code(), status.error_message());
  // Amounts in minor units, times in Unix seconds (null when unknown), status the stored word.
  json invoices = json::array();
  for (const v1::Invoice& i : response.invoices()) {
    invoices.push_back({{"id", i.invoice_id()},
                        {"number", i.number()},
                        {"status", EnumWord(v1::InvoiceStatus_Name(i.status()), "INVOICE_STATUS_")},
                        {"amount_due", i.amount_due()},
                        {"amount_paid", i.amount_paid()},
                        {"currency", i.currency()},
                        {"period_start", TimeOrNull(i.has_period_start(), i.period_start())},
                        {"period_end", TimeOrNull(i.has_period_end(), i.period_end())},
                        {"created", TimeOrNull(i.has_created(), i.created())},
                        {"hosted_invoice_url", i.hosted_invoice_url()},
                        {"invoice_pdf", i.invoice_pdf()}});
  }
  // next_page_token is null on the last page.
  Succeed(res, {{"invoices", std::move(invoices)},
                {"next_page_token", response.next_page_token().empty()
                                        ? json(nullptr)
                                        : json(response.next_page_token())}});
}

}  // namespace paybell::rest

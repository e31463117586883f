#include "rest_adapter/web_pages.h"

#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>
#include <mstch/mstch.hpp>
#include <string_view>
#include <vector>

#include "rest_adapter/embedded_templates.h"
#include "rest_adapter/grpc_call.h"
#include "rest_adapter/http_status.h"
#include "server/common/money.h"
#include "server/common/request_id.h"

namespace paybell::rest {
namespace {

// SendTest waits for the delivery attempt (up to 45 s on the server) before answering.
constexpr auto kSendTestDeadline = std::chrono::seconds(60);
constexpr int kInvoicesShown = 12;
constexpr int kLogRowsShown = 50;
// Longer fields are refused, never cut: a cut address could be another valid one.
constexpr size_t kMaxFormField = 16384;

// ---- HTTP helpers -----------------------------------------------------------------------

void SetPageHeaders(httplib::Response& res) {
  // Pages show account data: never cached, never framed, no script at all, and no Referer
  // leaves for other sites (hosted invoice links carry ids).
  res.set_header("Cache-Control", "no-store");
  res.set_header("X-Frame-Options", "DENY");
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "same-origin");
  res.set_header("Content-Security-Policy",
                 "default-src 'none'; style-src 'self'; img-src 'self'; "
                 "frame-ancestors 'none'; base-uri 'none'");
}

// The link's URL holds a credential: it is never sent on as a Referer.
void NoReferrer(httplib::Response& res) {
  res.headers.erase("Referrer-Policy");
  res.set_header("Referrer-Policy", "no-referrer");
}

void Redirect(httplib::Response& res, const std::string& location) {
  SetPageHeaders(res);
  res.status = 303;
  res.set_header("Location", location);
}

// "30 Nov 2026" (UTC).
std::string Date(int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char out[32];
  std::strftime(out, sizeof out, "%d %b %Y", &tm);
  return out;
}

// "30 Nov 2026, 14:05 UTC".
std::string DateTime(int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char out[40];
  std::strftime(out, sizeof out, "%d %b %Y, %H:%M UTC", &tm);
  return out;
}

// The shortest decimal that reads back as `value` (0.2, 0.004, 0.125): saving the page
// unchanged must store the same number.
std::string ShortestDecimal(double value) {
  char out[32];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(out, sizeof out, "%.*g", precision, value);
    if (std::strtod(out, nullptr) == value) break;
  }
  return out;
}

std::string Capitalized(std::string text) {
  if (!text.empty()) text[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(text[0])));
  return text;
}

// The first value of form field `name`; "" when absent.
std::string Field(const httplib::Request& req, const char* name) {
  return req.has_param(name) ? req.get_param_value(name) : std::string();
}

// Whether every form field is within kMaxFormField.
bool FieldsWithinLimits(const httplib::Request& req) {
  return std::all_of(req.params.begin(), req.params.end(),
                     [](const auto& param) { return param.second.size() <= kMaxFormField; });
}

std::string Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  return std::string(text);
}

// ---- vocabulary ---------------------------------------------------------------------------

struct StatusLook {
  const char* label;
  const char* css;  // pill-<css>
};

StatusLook SubscriptionLook(const std::string& word) {
  if (word == "active") return {"Active", "good"};
  if (word == "trialing") return {"Trialing", "info"};
  if (word == "past_due") return {"Past due", "warn"};
  if (word == "unpaid") return {"Unpaid", "bad"};
  if (word == "incomplete") return {"Incomplete", "warn"};
  if (word == "incomplete_expired") return {"Expired", "bad"};
  if (word == "canceled") return {"Canceled", "bad"};
  if (word == "paused") return {"Paused", "warn"};
  return {"None", "none"};
}

StatusLook InvoiceLook(const std::string& word) {
  if (word == "paid") return {"Paid", "good"};
  if (word == "open") return {"Open", "warn"};
  if (word == "draft") return {"Draft", "none"};
  if (word == "uncollectible") return {"Uncollectible", "bad"};
  if (word == "void") return {"Void", "none"};
  return {"Unknown", "none"};
}

const char* DeliveryCss(const std::string& status) {
  if (status == "sent") return "good";
  if (status == "queued" || status == "sending") return "info";
  if (status == "failed") return "warn";
  if (status == "dead") return "bad";
  return "none";
}

const char* TriggerLabel(v1::Trigger trigger) {
  switch (trigger) {
    case v1::TRIGGER_PSI_DRIFT:
      return "Model drift (PSI above the threshold)";
    case v1::TRIGGER_LLM_BUDGET_FALLBACK:
      return "LLM budget used up (fallback model in use)";
    case v1::TRIGGER_JOURNAL_IMBALANCE:
      return "A journal entry does not balance";
    case v1::TRIGGER_EXPORT_COMPLETED:
      return "An export is ready to download";
    case v1::TRIGGER_COLD_START_GRADUATED:
      return "A model left cold start";
    case v1::TRIGGER_PAYMENT_FAILED:
      return "A payment failed";
    case v1::TRIGGER_PAYMENT_ACTION_REQUIRED:
      return "A payment needs your confirmation";
    case v1::TRIGGER_TRIAL_ENDING:
      return "The trial is ending";
    default:
      return nullptr;
  }
}

// Every trigger this adapter knows, in the proto's order.
std::vector<v1::Trigger> KnownTriggers() {
  std::vector<v1::Trigger> out;
  for (int i = v1::Trigger_MIN; i <= v1::Trigger_MAX; ++i) {
    if (v1::Trigger_IsValid(i) && TriggerLabel(static_cast<v1::Trigger>(i)) != nullptr) {
      out.push_back(static_cast<v1::Trigger>(i));
    }
  }
  return out;
}

std::string TriggerWord(v1::Trigger trigger) {
  return EnumWord(v1::Trigger_Name(trigger), "TRIGGER_");
}

// ---- rendering ----------------------------------------------------------------------------

mstch::map BaseModel(const std::string& title, const BrowserSession* session) {
  mstch::map model{{"title", title}, {"signed_in", session != nullptr}};
  if (session != nullptr) {
    model["csrf"] = session->csrf;
    model["subject"] = session->subject;
    model["tenant_id"] = session->tenant_id;
    model["role"] = session->role;
  } else {
    model["csrf"] = std::string();
  }
  return model;
}

void Render(httplib::Response& res, int status, const std::string& page, const mstch::map& model) {
  SetPageHeaders(res);
  res.status = status;
  res.set_content(mstch::render(EmbeddedTemplate("layout.mustache"), model,
                                {{"content", EmbeddedTemplate(page)}}),
                  "text/html; charset=utf-8");
}

void RenderMessage(httplib::Response& res, int status, const std::string& heading,
                   const std::string& message, const std::string& detail = "",
                   const BrowserSession* session = nullptr) {
  mstch::map model = BaseModel(heading, session);
  model["heading"] = heading;
  model["message"] = message;
  model["detail"] = detail;
  if (session != nullptr) {
    model["link_url"] = std::string("/billing");
    model["link_label"] = std::string("Back to billing");
  }
  Render(res, status, "message.mustache", model);
}

void RenderSignIn(httplib::Response& res, int status, const std::string& detail) {
  RenderMessage(res, status, "Sign in through your application",
                "Open Billing or Notification settings from your bookkeeping application: it "
                "signs you in here with a one-time link.",
                detail);
}

void RenderRefused(httplib::Response& res, CsrfVerdict verdict, const BrowserSession* session) {
  RenderMessage(res, 403, "Request refused",
                "This request did not come from a Paybell page of this session, so nothing was "
                "changed. Reload the page and try again.",
                "Reason: " + std::string(CsrfVerdictText(verdict)) + ".", session);
}

void Prepare(grpc::ClientContext& context, const std::string& token, const httplib::Response& res,
             std::chrono::seconds deadline = kGrpcCallDeadline) {
  PrepareCall(context, token, res.get_header_value("X-Request-Id"), deadline);
}

// A failed call's words for people; the server's messages are written for operators.
std::string Unavailable() {
  return "Billing is temporarily unavailable. Nothing was changed; please try again in a minute.";
}

}  // namespace

// What the user typed on /billing, kept when the page comes back with an error.
struct WebPages::BillingForm {
  std::string plan;
  std::string coupon;
  std::string error;
};

// What the user typed on /settings/notifications, kept when the page comes back with errors.
struct WebPages::SettingsForm {
  bool email_enabled = false;
  std::string email_recipients;
  bool slack_enabled = false;
  std::string slack_new;
  bool slack_remove = false;
  std::string psi_threshold;
  std::vector<std::string> enabled_triggers;  // words
  std::map<std::string, std::string> field_errors;
  std::string error;
};

WebPages::WebPages(std::shared_ptr<grpc::Channel> channel, const WebOptions& options)
    : sessions_(v1::SessionService::NewStub(channel)),
      billing_(v1::BillingService::NewStub(channel)),
      notifications_(v1::NotificationService::NewStub(channel)),
      app_origin_(OriginOf(options.app_url).value_or("")),
      secure_cookie_(Lower(options.app_url).rfind("https://", 0) == 0) {}

void WebPages::Register(httplib::Server& server) {
  using Handler = void (WebPages::*)(const httplib::Request&, httplib::Response&);
  const auto bind = [this](Handler handler) {
    return [this, handler](const httplib::Request& req, httplib::Response& res) {
      (this->*handler)(req, res);
    };
  };
  server.Get("/login", bind(&WebPages::Login));
  server.Post("/logout", bind(&WebPages::Logout));
  server.Get("/signin", bind(&WebPages::SignIn));
  server.Get("/billing", bind(&WebPages::Billing));
  server.Post("/billing/checkout", bind(&WebPages::Checkout));
  server.Post("/billing/portal", bind(&WebPages::Portal));
  server.Get("/settings/notifications", bind(&WebPages::Settings));
  server.Post("/settings/notifications", bind(&WebPages::SaveSettings));
  server.Post("/settings/notifications/test", bind(&WebPages::SendTest));
  // Where stub-mode checkout and portal links point (billing::kStripeNotConfiguredPath).
  server.Get("/billing/stripe-not-configured", [](const httplib::Request&, httplib::Response& res) {
    RenderMessage(res, 200, "Stripe is not configured",
                  "This Paybell server runs in stub mode: STRIPE_SECRET_KEY is not set, so no "
                  "checkout or billing portal exists and nothing was charged. Set "
                  "STRIPE_SECRET_KEY and the STRIPE_PRICE_* variables to take payments.");
    NoReferrer(res);
  });
  server.Get("/static/paybell.css", [](const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "public, max-age=3600");
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_content(EmbeddedTemplate("paybell.css"), "text/css; charset=utf-8");
  });
}

std::optional<BrowserSession> WebPages::RequireSession(const httplib::Request& req,
                                                       httplib::Response& res) const {
  auto session = SessionFromRequest(req, secure_cookie_);
  if (!session) Redirect(res, "/signin");
  return session;
}

std::optional<BrowserSession> WebPages::RequireSessionAndCsrf(const httplib::Request& req,
                                                              httplib::Response& res) const {
  auto session = SessionFromRequest(req, secure_cookie_);
  if (!session) {
    // A state-changing request without a session: nothing to protect, nothing to do. It is
    // refused like a forged one rather than redirected, so a cross-site post learns nothing.
    // (POST /logout without a session is answered before this: it only clears the cookie.)
    RenderRefused(res, CsrfVerdict::kMissingToken, nullptr);
    return std::nullopt;
  }
  const CsrfVerdict verdict = CheckCsrf(req, *session, app_origin_);
  if (verdict != CsrfVerdict::kOk) {
    spdlog::warn("csrf: refused {} {}: {}", req.method, req.path, CsrfVerdictText(verdict));
    // Without the session's details: the page must not hand its CSRF token to whoever sent
    // the forged request.
    RenderRefused(res, verdict, nullptr);
    return std::nullopt;
  }
  if (!FieldsWithinLimits(req)) {
    RenderMessage(res, 413, "Too much text",
                  "A field of this form is longer than Paybell accepts (16 KiB); nothing was "
                  "changed.",
                  "", &*session);
    return std::nullopt;
  }
  return session;
}

void WebPages::SessionEnded(httplib::Response& res) const {
  Redirect(res, "/signin");
  res.set_header("Set-Cookie", ClearedSessionCookie(secure_cookie_));
}

void WebPages::Login(const httplib::Request& req, httplib::Response& res) {
  const std::string token = req.get_param_value("token");
  if (req.method == "HEAD") {
    // Link checkers and previews probe with HEAD: the single-use link is kept for the person.
    SetPageHeaders(res);
    NoReferrer(res);
    res.status = 200;
    return;
  }
  if (token.empty() || !IsTokenText(token)) {
    RenderSignIn(res, 401, "This sign-in link is incomplete or damaged.");
    NoReferrer(res);
    return;
  }
  v1::StartSessionRequest request;
  request.set_login_token(token);
  grpc::ClientContext context;
  Prepare(context, "", res);
  v1::StartSessionResponse session;
  const grpc::Status status = sessions_->StartSession(&context, request, &session);
  if (!status.ok()) {
    RenderSignIn(res, HttpStatusFromGrpc(status.error_code()),
                 status.error_code() == grpc::StatusCode::UNAUTHENTICATED
                     ? "This sign-in link cannot be used: " + status.error_message() + "."
                     : "Signing in failed; please try again in a minute.");
    NoReferrer(res);
    return;
  }
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  Redirect(res, "/billing");
  NoReferrer(res);
  res.set_header("Set-Cookie", SessionCookie(session.session_token(),
                                             session.expires_at().seconds() - now, secure_cookie_));
}

void WebPages::Logout(const httplib::Request& req, httplib::Response& res) {
  if (!SessionFromRequest(req, secure_cookie_)) {
    // Signed out already (or the cookie is not a session): nothing to end.
    Redirect(res, "/signin?signed_out=1");
    res.set_header("Set-Cookie", ClearedSessionCookie(secure_cookie_));
    return;
  }
  const auto session = RequireSessionAndCsrf(req, res);
  if (!session) return;
  grpc::ClientContext context;
  Prepare(context, session->token, res);
  v1::EndSessionResponse ended;
  const grpc::Status status = sessions_->EndSession(&context, v1::EndSessionRequest(), &ended);
  if (!status.ok() && status.error_code() != grpc::StatusCode::UNAUTHENTICATED) {
    // The cookie goes anyway; the server-side session then ends at its expiry.
    spdlog::warn("sign-out: EndSession failed: {}", status.error_message());
  }
  Redirect(res, "/signin?signed_out=1");
  res.set_header("Set-Cookie", ClearedSessionCookie(secure_cookie_));
}

void WebPages::SignIn(const httplib::Request& req, httplib::Response& res) {
  if (req.get_param_value("signed_out") == "1") {
    RenderMessage(res, 200, "You are signed out",
                  "To come back, open Billing or Notification settings from your bookkeeping "
                  "application.");
    return;
  }
  RenderSignIn(res, 200, "");
}

// ---- /billing -----------------------------------------------------------------------------

void WebPages::Billing(const httplib::Request& req, httplib::Response& res) {
  const auto session = RequireSession(req, res);
  if (!session) return;
  RenderBilling(req, res, *session, 200, BillingForm{});
}

void WebPages::RenderBilling(const httplib::Request& req, httplib::Response& res,
                             const BrowserSession& session, int status, const BillingForm& form) {
  v1::Subscription sub;
  {
    v1::GetSubscriptionRequest request;
    request.set_tenant_id(session.tenant_id);
    grpc::ClientContext context;
    Prepare(context, session.token, res);
    const grpc::Status s = billing_->GetSubscription(&context, request, &sub);
    if (s.error_code() == grpc::StatusCode::UNAUTHENTICATED) return SessionEnded(res);
    if (!s.ok()) {
      RenderMessage(
          res, HttpStatusFromGrpc(s.error_code()), "Billing",
          s.error_code() == grpc::StatusCode::UNAVAILABLE ? Unavailable() : s.error_message(), "",
          &session);
      return;
    }
  }
  v1::BillingConfig config;
  {
    grpc::ClientContext context;
    Prepare(context, session.token, res);
    if (!billing_->GetBillingConfig(&context, v1::GetBillingConfigRequest(), &config).ok()) {
      config.Clear();
    }
  }
  v1::ListInvoicesResponse invoices;
  std::string invoices_error;
  {
    v1::ListInvoicesRequest request;
    request.set_tenant_id(session.tenant_id);
    request.set_page_size(kInvoicesShown);
    grpc::ClientContext context;
    Prepare(context, session.token, res);
    if (!billing_->ListInvoices(&context, request, &invoices).ok()) {
      invoices.Clear();
      invoices_error = "Invoices cannot be shown right now.";
    }
  }

  const std::string word =
      sub.status() == v1::SUBSCRIPTION_STATUS_UNSPECIFIED
          ? "none"
          : EnumWord(v1::SubscriptionStatus_Name(sub.status()), "SUBSCRIPTION_STATUS_");
  const StatusLook look = SubscriptionLook(word);
  const bool has_plan = sub.plan() != v1::PLAN_UNSPECIFIED && word != "none";
  const bool live = word != "none" && word != "canceled" && word != "incomplete_expired";

  mstch::map model = BaseModel("Billing", &session);
  model["nav_billing"] = true;
  model["test_mode"] = config.test_mode();
  model["stub_mode"] = config.stub_mode();
  model["checkout_success"] = req.get_param_value("checkout") == "success";
  model["checkout_cancel"] = req.get_param_value("checkout") == "cancel";
  model["error"] = form.error;
  model["status"] = word;
  model["status_label"] = std::string(look.label);
  model["status_class"] = std::string(look.css);
  std::string plan_name = "No plan";
  for (const auto& plan : config.plans()) {
    if (has_plan && plan.plan() == sub.plan()) plan_name = plan.name();
  }
  if (has_plan && plan_name == "No plan") {
    plan_name = Capitalized(EnumWord(v1::Plan_Name(sub.plan()), "PLAN_"));
  }
  model["plan_name"] = plan_name;

  std::string period_line;
  std::string cancel_notice;
  const int64_t period_end = sub.has_current_period_end() ? sub.current_period_end().seconds() : 0;
  if (word == "canceled") {
    // Cancelled at period end: it ended when the period did (canceled_at is when the
    // cancellation was asked for); cancelled at once: then.
    const int64_t ended = sub.cancel_at_period_end() && period_end > 0 ? period_end
                          : sub.has_canceled_at()                      ? sub.canceled_at().seconds()
                                                                       : period_end;
    if (ended > 0) period_line = "Ended on " + Date(ended) + ".";
  } else if (word == "trialing" && sub.has_trial_end()) {
    period_line = "Trial ends on " + Date(sub.trial_end().seconds()) + ".";
  } else if (word == "active" && period_end > 0) {
    period_line = (sub.cancel_at_period_end() ? "Ends on " : "Renews on ") + Date(period_end) + ".";
  } else if (live && period_end > 0) {
    // past_due, unpaid, incomplete, paused: nothing renews until it is paid or resumed.
    period_line = "The current period ends on " + Date(period_end) + ".";
  }
  if (live && sub.cancel_at_period_end()) {
    cancel_notice = "Your subscription is set to cancel" +
                    (period_end > 0 ? " on " + Date(period_end) : std::string(" at period end")) +
                    ". Use Manage billing to keep it.";
  }
  model["period_line"] = period_line;
  model["cancel_notice"] = cancel_notice;
  model["may_manage"] = session.role == "owner";
  // The portal needs a Stripe customer: before the first checkout there is nothing to manage.
  model["may_open_portal"] = session.role == "owner" && !sub.stripe_customer_id().empty();
  model["coupon"] = form.coupon;

  mstch::array plans;
  for (const auto& plan : config.plans()) {
    const std::string plan_word = EnumWord(v1::Plan_Name(plan.plan()), "PLAN_");
    const bool current = live && has_plan && plan.plan() == sub.plan();
    plans.push_back(mstch::map{
        {"word", plan_word},
        {"name", plan.name()},
        {"current", current},
        {"selected", form.plan.empty() ? current : form.plan == plan_word},
        {"available", plan.price_configured() || config.stub_mode()},
    });
  }
  model["plans"] = plans;

  mstch::array rows;
  for (const auto& invoice : invoices.invoices()) {
    const std::string invoice_word =
        EnumWord(v1::InvoiceStatus_Name(invoice.status()), "INVOICE_STATUS_");
    const StatusLook invoice_look = InvoiceLook(invoice_word);
    const bool paid = invoice.status() == v1::INVOICE_STATUS_PAID;
    rows.push_back(mstch::map{
        {"id", invoice.invoice_id()},
        {"date", Date(invoice.created().seconds())},
        {"number", invoice.number().empty() ? std::string("—") : invoice.number()},
        {"amount", common::FormatMoney(paid ? invoice.amount_paid() : invoice.amount_due(),
                                       invoice.currency())},
        {"status_label", std::string(invoice_look.label)},
        {"status_class", std::string(invoice_look.css)},
        // Links from Stripe's payloads are shown only when a browser may safely follow them.
        {"hosted_url",
         IsSafeLink(invoice.hosted_invoice_url()) ? invoice.hosted_invoice_url() : std::string()},
        {"pdf_url", IsSafeLink(invoice.invoice_pdf()) ? invoice.invoice_pdf() : std::string()},
    });
  }
  model["has_invoices"] = !rows.empty();
  model["invoices"] = rows;
  model["invoices_error"] = invoices_error;
  Render(res, status, "billing.mustache", model);
}

void WebPages::Checkout(const httplib::Request& req, httplib::Response& res) {
  const auto session = RequireSessionAndCsrf(req, res);
  if (!session) return;
  BillingForm form;
  form.plan = Lower(Field(req, "plan"));
  form.coupon = Trim(Field(req, "coupon"));
  const auto plan = PlanFromWord(form.plan);
  if (!plan) {
    form.error = "Choose a plan: Starter, Pro or Firm.";
    RenderBilling(req, res, *session, 400, form);
    return;
  }
  v1::CreateCheckoutSessionRequest request;
  request.set_tenant_id(session->tenant_id);
  request.set_plan(*plan);
  request.set_coupon_code(form.coupon);
  grpc::ClientContext context;
  Prepare(context, session->token, res);
  v1::CreateCheckoutSessionResponse response;
  const grpc::Status status = billing_->CreateCheckoutSession(&context, request, &response);
  if (status.ok() && IsFollowable(response.checkout_url())) {
    return Redirect(res, response.checkout_url());
  }
  if (status.ok()) {
    spdlog::error("checkout: refusing to send the browser to an unsafe checkout URL");
    form.error = "Checkout could not be started. Nothing was charged; please try again.";
    return RenderBilling(req, res, *session, 502, form);
  }
  switch (status.error_code()) {
    case grpc::StatusCode::UNAUTHENTICATED:
      return SessionEnded(res);
    case grpc::StatusCode::PERMISSION_DENIED:
      form.error = "Only the account owner can change the plan.";
      break;
    case grpc::StatusCode::FAILED_PRECONDITION:
      form.error = status.error_message().find("already has") != std::string::npos
                       ? "Your subscription is already active — use Manage billing to change "
                         "plan."
                       : Capitalized(status.error_message()) + ".";
      break;
    case grpc::StatusCode::INVALID_ARGUMENT:
      form.error = status.error_message().rfind("coupon", 0) == 0
                       ? "That coupon code is not valid: check it and try again, or leave the "
                         "field empty."
                       : Capitalized(status.error_message()) + ".";
      break;
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      form.error = Unavailable();
      break;
    default:
      form.error = "Checkout could not be started. Nothing was charged; please try again.";
      break;
  }
  RenderBilling(req, res, *session, HttpStatusFromGrpc(status.error_code()), form);
}

void WebPages::Portal(const httplib::Request& req, httplib::Response& res) {
  const auto session = RequireSessionAndCsrf(req, res);
  if (!session) return;
  v1::GetPortalLinkRequest request;
  request.set_tenant_id(session->tenant_id);
  grpc::ClientContext context;
  Prepare(context, session->token, res);
  v1::GetPortalLinkResponse response;
  const grpc::Status status = billing_->GetPortalLink(&context, request, &response);
  if (status.ok() && IsFollowable(response.url())) return Redirect(res, response.url());
  if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED) return SessionEnded(res);
  BillingForm form;
  if (status.ok()) {
    spdlog::error("portal: refusing to send the browser to an unsafe portal URL");
    form.error = "The billing portal could not be opened; please try again.";
    return RenderBilling(req, res, *session, 502, form);
  }
  switch (status.error_code()) {
    case grpc::StatusCode::PERMISSION_DENIED:
      form.error = "Only the account owner can open the billing portal.";
      break;
    case grpc::StatusCode::FAILED_PRECONDITION:
      form.error = "There is no subscription to manage yet — choose a plan first.";
      break;
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      form.error = Unavailable();
      break;
    default:
      form.error = "The billing portal could not be opened; please try again.";
      break;
  }
  RenderBilling(req, res, *session, HttpStatusFromGrpc(status.error_code()), form);
}

// ---- /settings/notifications --------------------------------------------------------------

void WebPages::Settings(const httplib::Request& req, httplib::Response& res) {
  const auto session = RequireSession(req, res);
  if (!session) return;
  RenderSettings(req, res, *session, 200, nullptr);
}

void WebPages::RenderSettings(const httplib::Request& req, httplib::Response& res,
                              const BrowserSession& session, int status, const SettingsForm* form,
                              const TestSendResult& test) {
  v1::NotificationSettings settings;
  {
    v1::GetSettingsRequest request;
    request.set_tenant_id(session.tenant_id);
    grpc::ClientContext context;
    Prepare(context, session.token, res);
    const grpc::Status s = notifications_->GetSettings(&context, request, &settings);
    if (s.error_code() == grpc::StatusCode::UNAUTHENTICATED) return SessionEnded(res);
    if (!s.ok()) {
      RenderMessage(res, HttpStatusFromGrpc(s.error_code()), "Notifications",
                    s.error_code() == grpc::StatusCode::UNAVAILABLE
                        ? "Notification settings are temporarily unavailable; please try again."
                        : s.error_message(),
                    "", &session);
      return;
    }
  }
  v1::ListLogResponse log;
  std::string log_error;
  {
    v1::ListLogRequest request;
    request.set_tenant_id(session.tenant_id);
    request.set_page_size(kLogRowsShown);
    grpc::ClientContext context;
    Prepare(context, session.token, res);
    if (!notifications_->ListLog(&context, request, &log).ok()) {
      log.Clear();
      log_error = "The notification log cannot be shown right now.";
    }
  }

  mstch::map model = BaseModel("Notifications", &session);
  model["nav_notifications"] = true;
  model["saved"] = form == nullptr && req.get_param_value("saved") == "1";
  model["may_edit"] = session.role == "owner" || session.role == "admin";
  model["slack_broken"] = settings.slack_broken();
  model["slack_current"] = settings.slack_webhook_url();
  model["test_result"] = test.text;
  model["test_class"] = std::string(test.ok ? "success" : "error");

  std::vector<std::string> enabled;
  for (v1::Trigger trigger : KnownTriggers()) {
    const auto& disabled = settings.disabled_triggers();
    if (std::find(disabled.begin(), disabled.end(), trigger) == disabled.end()) {
      enabled.push_back(TriggerWord(trigger));
    }
  }
  if (form != nullptr) {
    model["email_enabled"] = form->email_enabled;
    model["email_recipients"] = form->email_recipients;
    model["slack_enabled"] = form->slack_enabled;
    model["slack_new"] = form->slack_new;
    model["slack_remove"] = form->slack_remove;
    model["psi_threshold"] = form->psi_threshold;
    enabled = form->enabled_triggers;
    mstch::map errors;
    for (const auto& [field, message] : form->field_errors) errors[field] = message;
    model["errors"] = errors;
    model["error"] = form->error;
  } else {
    model["email_enabled"] = settings.email_enabled();
    std::string recipients;
    for (const auto& address : settings.email_recipients()) recipients += address + "\n";
    model["email_recipients"] = recipients;
    model["slack_enabled"] = settings.slack_enabled();
    model["slack_new"] = std::string();
    model["slack_remove"] = false;
    model["psi_threshold"] =
        ShortestDecimal(settings.psi_threshold() > 0 ? settings.psi_threshold() : 0.20);
    model["errors"] = mstch::map{};
  }
  mstch::array triggers;
  for (v1::Trigger trigger : KnownTriggers()) {
    const std::string word = TriggerWord(trigger);
    triggers.push_back(mstch::map{
        {"word", word},
        {"label", std::string(TriggerLabel(trigger))},
        {"enabled", std::find(enabled.begin(), enabled.end(), word) != enabled.end()},
    });
  }
  model["triggers"] = triggers;

  mstch::array rows;
  for (const auto& entry : log.entries()) {
    std::string what = entry.summary();
    if (what.empty()) {
      what = entry.kind() == "test" ? "Test message"
             : entry.trigger() != v1::TRIGGER_UNSPECIFIED && TriggerLabel(entry.trigger())
                 ? TriggerLabel(entry.trigger())
                 : entry.kind();
    }
    std::string detail = entry.last_error();
    if (detail.empty() && entry.status() == "suppressed") {
      detail = EnumWord(v1::Decision_Name(entry.decision()), "DECISION_");
    }
    rows.push_back(mstch::map{
        {"when", DateTime(entry.created_at().seconds())},
        {"what", what},
        {"channel", Capitalized(EnumWord(v1::Channel_Name(entry.channel()), "CHANNEL_"))},
        {"status", entry.status()},
        {"status_class", std::string(DeliveryCss(entry.status()))},
        {"detail", detail},
    });
  }
  model["has_log"] = !rows.empty();
  model["log"] = rows;
  model["log_error"] = log_error;
  Render(res, status, "notifications.mustache", model);
}

void WebPages::SaveSettings(const httplib::Request& req, httplib::Response& res) {
  const auto session = RequireSessionAndCsrf(req, res);
  if (!session) return;
  SettingsForm form;
  form.email_enabled = req.has_param("email_enabled");
  form.email_recipients = Field(req, "email_recipients");
  form.slack_enabled = req.has_param("slack_enabled");
  form.slack_new = Trim(Field(req, "slack_webhook_url"));
  form.slack_remove = req.has_param("slack_remove");
  form.psi_threshold = Trim(Field(req, "psi_threshold"));
  for (v1::Trigger trigger : KnownTriggers()) {
    const std::string word = TriggerWord(trigger);
    if (req.has_param(("trigger_" + word).c_str())) form.enabled_triggers.push_back(word);
  }

  v1::UpdateSettingsRequest request;
  v1::NotificationSettings* settings = request.mutable_settings();
  settings->set_tenant_id(session->tenant_id);
  settings->set_email_enabled(form.email_enabled);
  std::vector<std::string> recipients;
  {
    std::string current;
    for (char c : form.email_recipients + "\n") {
      if (c == '\n' || c == '\r' || c == ',' || c == ';') {
        std::string address = Trim(current);
        if (!address.empty()) recipients.push_back(address);
        current.clear();
      } else {
        current.push_back(c);
      }
    }
  }
  for (const auto& address : recipients) settings->add_email_recipients(address);
  settings->set_slack_enabled(form.slack_enabled);
  if (!form.slack_new.empty()) {
    settings->set_slack_webhook_url(form.slack_new);
  } else if (!form.slack_remove) {
    // Replace-only: the page never holds the stored URL. Sending back the masked value the
    // server gives keeps the stored URL.
    v1::GetSettingsRequest get;
    get.set_tenant_id(session->tenant_id);
    grpc::ClientContext context;
    Prepare(context, session->token, res);
    v1::NotificationSettings current;
    const grpc::Status s = notifications_->GetSettings(&context, get, &current);
    if (s.error_code() == grpc::StatusCode::UNAUTHENTICATED) return SessionEnded(res);
    if (!s.ok()) {
      form.error = "Notification settings are temporarily unavailable; nothing was saved.";
      RenderSettings(req, res, *session, HttpStatusFromGrpc(s.error_code()), &form);
      return;
    }
    settings->set_slack_webhook_url(current.slack_webhook_url());
  }
  if (!form.psi_threshold.empty()) {
    char* end = nullptr;
    const double psi = std::strtod(form.psi_threshold.c_str(), &end);
    if (end == form.psi_threshold.c_str() || *end != '\0') {
      form.field_errors["psi_threshold"] = "Enter a number such as 0.25.";
      RenderSettings(req, res, *session, 400, &form);
      return;
    }
    settings->set_psi_threshold(psi);
  }
  for (v1::Trigger trigger : KnownTriggers()) {
    if (std::find(form.enabled_triggers.begin(), form.enabled_triggers.end(),
                  TriggerWord(trigger)) == form.enabled_triggers.end()) {
      settings->add_disabled_triggers(trigger);
    }
  }

  grpc::ClientContext context;
  Prepare(context, session->token, res);
  v1::NotificationSettings saved;
  const grpc::Status status = notifications_->UpdateSettings(&context, request, &saved);
  if (status.ok()) return Redirect(res, "/settings/notifications?saved=1");
  if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED) return SessionEnded(res);
  const std::string& message = status.error_message();
  if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
    // The server names the field first ("email_recipients[1] is not …", "slack_webhook_url …",
    // "psi_threshold …"): the message goes next to that field, in words.
    if (message.rfind("email_recipients[", 0) == 0) {
      const size_t index = std::strtoul(message.c_str() + 17, nullptr, 10);
      form.field_errors["email_recipients"] =
          index < recipients.size() ? "“" + recipients[index] + "” is not a valid email address."
                                    : "One of the addresses is not valid.";
    } else if (message.rfind("email_recipients", 0) == 0) {
      form.field_errors["email_recipients"] = "Too many recipients: " + message + ".";
    } else if (message.rfind("slack_webhook_url", 0) == 0) {
      form.field_errors["slack_webhook_url"] =
          "This is not a Slack webhook URL Paybell may use: " +
          message.substr(std::string_view("slack_webhook_url ").size()) + ".";
    } else if (message.rfind("psi_threshold", 0) == 0) {
      form.field_errors["psi_threshold"] =
          "Enter a number above 0 and at most 10 (0.20 is the default).";
    } else {
      form.error = Capitalized(message) + ".";
    }
  } else if (status.error_code() == grpc::StatusCode::PERMISSION_DENIED) {
    form.error = "Only the owner or an admin can change notification settings.";
  } else {
    form.error = "The settings could not be saved; please try again in a minute.";
  }
  RenderSettings(req, res, *session, HttpStatusFromGrpc(status.error_code()), &form);
}

void WebPages::SendTest(const httplib::Request& req, httplib::Response& res) {
  const auto session = RequireSessionAndCsrf(req, res);
  if (!session) return;
  const std::string channel_word = Field(req, "channel");
  v1::SendTestRequest request;
  request.set_tenant_id(session->tenant_id);
  const bool email = channel_word == "email";
  if (!email && channel_word != "slack") {
    RenderMessage(res, 400, "Notifications", "Choose email or Slack for the test message.", "",
                  &*session);
    return;
  }
  request.set_channel(email ? v1::CHANNEL_EMAIL : v1::CHANNEL_SLACK);
  grpc::ClientContext context;
  Prepare(context, session->token, res, kSendTestDeadline);
  v1::SendTestResponse response;
  const grpc::Status status = notifications_->SendTest(&context, request, &response);
  if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED) return SessionEnded(res);
  const std::string what = email ? "Test email" : "Test Slack message";
  std::string text;
  bool ok = false;
  if (!status.ok()) {
    switch (status.error_code()) {
      case grpc::StatusCode::RESOURCE_EXHAUSTED:
        text = what + " not sent: one test per channel every 10 seconds. Try again shortly.";
        break;
      case grpc::StatusCode::FAILED_PRECONDITION:
        text = what + " not sent: " + status.error_message() + ".";
        break;
      case grpc::StatusCode::PERMISSION_DENIED:
        text = "Only the owner or an admin can send test messages.";
        break;
      default:
        text = what + " could not be sent right now; please try again.";
        break;
    }
  } else if (response.status() == "sent") {
    ok = true;
    text = what + (email ? " sent. Check the recipients' inboxes." : " sent to Slack.");
  } else if (response.status() == "queued" || response.status() == "sending") {
    ok = true;
    text = what + " queued; it will be delivered in a moment.";
  } else {
    text = what + " failed: " + (response.error().empty() ? response.status() : response.error()) +
           ".";
  }
  // The stored settings, with the result on top.
  RenderSettings(req, res, *session, status.ok() ? 200 : HttpStatusFromGrpc(status.error_code()),
                 nullptr, {text, ok});
}

}  // namespace paybell::rest

// The browser pages tenant owners use (issue 10): sign-in by link, /billing and
// /settings/notifications, server-rendered from the mustache templates in
// rest_adapter/templates/ (HTML-escaped). Every action is one gRPC call made with the
// session's token, so the server decides access exactly as for any other caller; the adapter
// only keeps the session cookie and refuses cross-site requests (CSRF) before calling.
//
//   GET  /login?token=…                 sign-in link → session cookie → 303 /billing
//   POST /logout                        ends the session (server side too) → 303 /signin
//   GET  /signin                        "sign in through your application"
//   GET  /billing                       plan, status, invoices, plan selector
//   POST /billing/checkout, /billing/portal          → 303 to Stripe (or the stub page)
//   GET/POST /settings/notifications, POST /settings/notifications/test
//   GET  /billing/stripe-not-configured   where checkout and portal lead in stub mode
//   GET  /static/paybell.css
#pragma once

#include <httplib.h>

#include <memory>
#include <optional>
#include <string>

#include "paybell/v1/billing.grpc.pb.h"
#include "paybell/v1/notification.grpc.pb.h"
#include "paybell/v1/session.grpc.pb.h"
#include "rest_adapter/web_session.h"

namespace paybell::rest {

struct WebOptions {
  // The pages' public base URL (APP_URL, or the adapter's own address): its origin is the only
  // one state-changing requests may come from, and https makes the cookie Secure.
  std::string app_url = "http://localhost:8080";
};

// The outcome of a test send, shown on top of the notification settings.
struct TestSendResult {
  std::string text;
  bool ok = false;
};

class WebPages {
 public:
  WebPages(std::shared_ptr<grpc::Channel> channel, const WebOptions& options);

  // Adds the routes to `server`.
  void Register(httplib::Server& server);

  const std::string& app_origin() const { return app_origin_; }
  bool secure_cookie() const { return secure_cookie_; }

 private:
  struct BillingForm;
  struct SettingsForm;

  void Login(const httplib::Request& req, httplib::Response& res);
  void Logout(const httplib::Request& req, httplib::Response& res);
  void SignIn(const httplib::Request& req, httplib::Response& res);
  void Billing(const httplib::Request& req, httplib::Response& res);
  void Checkout(const httplib::Request& req, httplib::Response& res);
  void Portal(const httplib::Request& req, httplib::Response& res);
  void Settings(const httplib::Request& req, httplib::Response& res);
  void SaveSettings(const httplib::Request& req, httplib::Response& res);
  void SendTest(const httplib::Request& req, httplib::Response& res);

  // The request's session, or nullopt after answering 303 to /signin.
  std::optional<BrowserSession> RequireSession(const httplib::Request& req,
                                               httplib::Response& res) const;
  // For a state-changing request: the session, if it passes the CSRF check; otherwise the
  // 403 page (or the 303 to /signin) has been answered and nothing is called.
  std::optional<BrowserSession> RequireSessionAndCsrf(const httplib::Request& req,
                                                      httplib::Response& res) const;
  void RenderBilling(const httplib::Request& req, httplib::Response& res,
                     const BrowserSession& session, int status, const BillingForm& form);
  // `form`: what the user typed (kept after an error); nullptr shows the stored settings.
  void RenderSettings(const httplib::Request& req, httplib::Response& res,
                      const BrowserSession& session, int status, const SettingsForm* form,
                      const TestSendResult& test = TestSendResult());
  // Where the browser may be sent: IsSafeLink, or a page of APP_URL's origin (stub mode).
  bool IsFollowable(const std::string& url) const {
    return IsSafeLink(url) || OriginOf(url) == app_origin_;
  }
  // The session ended or expired on the server: forget the cookie and send the browser to sign
  // in again.
  void SessionEnded(httplib::Response& res) const;

  std::unique_ptr<v1::SessionService::Stub> sessions_;
  std::unique_ptr<v1::BillingService::Stub> billing_;
  std::unique_ptr<v1::NotificationService::Stub> notifications_;
  std::string app_origin_;
  bool secure_cookie_ = false;
};

}  // namespace paybell::rest

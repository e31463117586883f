// The JSON billing routes the main application's front end calls, in the old Python API's
// shapes (issue 10): each becomes one BillingService call carrying the caller's bearer token,
// so the server decides access exactly as it does for gRPC callers.
//
//   POST /api/billing/create_checkout_session  {plan, coupon?}  → {success, checkout_url, stub}
//   GET  /api/billing/portal_link                               → {success, url, stub}
//   GET  /api/billing/subscription                              → {success, subscription{…}}
//   GET  /api/billing/invoices?page_size=&page_token=  → {success, invoices[{…}], next_page_token}
//        (newest first; next_page_token is null on the last page)
//
// Errors: {success: false, error: {code, message}} with the HTTP status of the gRPC code
// (http_status.h); `code` is the gRPC code's name in lower case ("permission_denied").
// The caller is an `Authorization: Bearer` JWT, or a browser session (the session cookie) with
// the session's CSRF token in an X-CSRF-Token header (and, for POST, an Origin or Referer of
// APP_URL's origin). The tenant is the token's tenant_id claim; a service or operator token
// (tenant "*") names it with ?tenant_id=. Claims are only read here: the server verifies the
// token (and that the session has not ended).
#pragma once

#include <httplib.h>

#include <memory>

#include "paybell/v1/billing.grpc.pb.h"

namespace paybell::rest {

class BillingApi {
 public:
  // `app_origin`: the only origin browser sessions may post from (web_session.h OriginOf);
  // `secure_cookie`: the pages are served over https (the session cookie's name).
  BillingApi(std::shared_ptr<grpc::Channel> channel, std::string app_origin, bool secure_cookie);

  // Adds the routes to `server`.
  void Register(httplib::Server& server);

 private:
  void CreateCheckoutSession(const httplib::Request& req, httplib::Response& res);
  void PortalLink(const httplib::Request& req, httplib::Response& res);
  void Subscription(const httplib::Request& req, httplib::Response& res);
  void Invoices(const httplib::Request& req, httplib::Response& res);

  std::unique_ptr<v1::BillingService::Stub> billing_;
  std::string app_origin_;
  bool secure_cookie_ = false;
};

}  // namespace paybell::rest

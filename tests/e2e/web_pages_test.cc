// The browser pages at the HTTP level, against a real paybell-server process: sign-in links,
// the session cookie, the CSRF matrix, roles, and what the pages do with hostile input. (The
// same pages in a real browser: tests/browser/.)
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <regex>

#include "paybell/v1/notification.grpc.pb.h"
#include "server/auth/jwt.h"
#include "server/common/clock.h"
#include "server/common/encoding.h"
#include "tests/support/process.h"
#include "tests/support/stripe_events.h"
#include "tests/support/temp_dir.h"

namespace paybell {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::ServerProcess;
using testing::TempDir;

const std::string kJwtSecret(48, 'w');
const std::string kWebhookSecret = "whsec_web_pages_e2e";

std::string SetCookieOf(const httplib::Result& res) {
  return res ? res->get_header_value("Set-Cookie") : "";
}

// "paybell_session=<value>; …" (or "__Host-paybell_session=…") → value.
std::string CookieValue(const std::string& set_cookie) {
  for (const std::string prefix : {"paybell_session=", "__Host-paybell_session="}) {
    if (set_cookie.rfind(prefix, 0) != 0) continue;
    const size_t end = set_cookie.find(';');
    return set_cookie.substr(prefix.size(), end - prefix.size());
  }
  return "";
}

class WebPagesTest : public ::testing::Test {
 protected:
  void StartServer(std::map<std::string, std::string> env = {}) {
    env.emplace("PAYBELL_JWT_SECRET", kJwtSecret);
    env.emplace("PAYBELL_HTTP_LISTEN", "127.0.0.1:0");
    env.emplace("STRIPE_WEBHOOK_SECRET", kWebhookSecret);
    server_ = std::make_unique<ServerProcess>(dir_.path(), env);
    ASSERT_NE(server_->http_port(), 0) << server_->process().output();
    origin_ = "http://localhost:" + std::to_string(server_->http_port());
    auto channel = grpc::CreateChannel(server_->grpc_target(), grpc::InsecureChannelCredentials());
    notifications_ = v1::NotificationService::NewStub(channel);
  }
  void SetUp() override { StartServer(); }
  void TearDown() override {
    if (server_) {
      EXPECT_EQ(server_->process().Stop(), 0) << server_->process().output();
    }
  }

  httplib::Client Http() {
    httplib::Client client("127.0.0.1", server_->http_port());
    client.set_read_timeout(std::chrono::seconds(30));
    return client;
  }

  // A sign-in link's token as paybellctl login-link mints it.
  std::string LoginToken(auth::Role role, const std::string& tenant = "acme",
                         int64_t lifetime_s = 600, int64_t issued_ago_s = 0) {
    const int64_t now = clock_.NowUnix();
    auth::Principal p;
    p.subject = "owner@acme.test";
    p.tenant_id = tenant;
    p.role = role;
    p.expires_at = now - issued_ago_s + lifetime_s;
    p.token_id = common::RandomHex(16);
    p.purpose = "login";
    return auth::SignToken(kJwtSecret, p, now - issued_ago_s);
  }

  // Signs in; returns the session cookie's value.
  std::string SignIn(auth::Role role = auth::Role::kOwner, const std::string& tenant = "acme") {
    auto res = Http().Get("/login?token=" + LoginToken(role, tenant));
    EXPECT_TRUE(res && res->status == 303) << (res ? res->body : "no answer");
    return CookieValue(SetCookieOf(res));
  }

  httplib::Headers WithCookie(const std::string& cookie) {
    return {{"Cookie", "paybell_session=" + cookie}};
  }

  // The CSRF token a page of this session carries (what a form would send).
  std::string CsrfOf(const std::string& cookie, const std::string& name = "paybell_session") {
    auto res = Http().Get("/billing", {{"Cookie", name + "=" + cookie}});
    if (!res || res->status != 200) return "";
    std::smatch match;
    static const std::regex kMeta(R"re(<meta name="csrf-token" content="([^"]+)">)re");
    return std::regex_search(res->body, match, kMeta) ? match[1].str() : "";
  }

  httplib::Result PostForm(const std::string& path, const httplib::Headers& headers,
                           const std::string& body) {
    return Http().Post(path, headers, body, "application/x-www-form-urlencoded");
  }

  v1::NotificationSettings Settings(const std::string& tenant = "acme") {
    grpc::ClientContext context;
    context.AddMetadata(
        "authorization",
        "Bearer " + auth::SignToken(kJwtSecret,
                                    {"e2e", "*", auth::Role::kOperator, clock_.NowUnix() + 600},
                                    clock_.NowUnix()));
    v1::GetSettingsRequest request;
    request.set_tenant_id(tenant);
    v1::NotificationSettings settings;
    const grpc::Status status = notifications_->GetSettings(&context, request, &settings);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return settings;
  }

  common::SystemClock clock_;
  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<v1::NotificationService::Stub> notifications_;
  std::string origin_;
};

TEST_F(WebPagesTest, ASignInLinkStartsOneSessionWithAnHttpOnlyLaxCookie) {
  const std::string token = LoginToken(auth::Role::kOwner);
  auto res = Http().Get("/login?token=" + token);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 303) << res->body;
  EXPECT_EQ(res->get_header_value("Location"), "/billing");
  EXPECT_EQ(res->get_header_value("Referrer-Policy"), "no-referrer");
  const std::string cookie = SetCookieOf(res);
  EXPECT_THAT(cookie, AllOf(HasSubstr("HttpOnly"), HasSubstr("SameSite=Lax"), HasSubstr("Path=/"),
                            Not(HasSubstr("Secure"))));
  std::smatch match;
  ASSERT_TRUE(std::regex_search(cookie, match, std::regex("Max-Age=(\\d+)"))) << cookie;
  EXPECT_GT(std::stoll(match[1]), 12 * 3600 - 60);
  EXPECT_LE(std::stoll(match[1]), 12 * 3600);

  auto page = Http().Get("/billing", WithCookie(CookieValue(cookie)));
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_THAT(page->body, AllOf(HasSubstr("<h1>Billing</h1>"), HasSubstr("data-status=\"none\""),
                                HasSubstr("banner-not-configured"),
                                Not(HasSubstr("Manage billing"))));  // nothing to manage yet

  // The same link again: refused, and no cookie.
  auto again = Http().Get("/login?token=" + token);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 401);
  EXPECT_THAT(again->body, HasSubstr("Sign in through your application"));
  EXPECT_EQ(SetCookieOf(again), "");
}

TEST_F(WebPagesTest, ExpiredOrLongLivedOrMalformedSignInLinksAreRefused) {
  for (const std::string& token :
       {LoginToken(auth::Role::kOwner, "acme", 600, /*issued_ago_s=*/900),  // expired
        LoginToken(auth::Role::kOwner, "acme", 16 * 60),                    // lives 16 minutes
        std::string("not-a-token"), std::string()}) {
    auto res = Http().Get("/login?token=" + token);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 401) << token;
    EXPECT_THAT(res->body, HasSubstr("Sign in through your application"));
    EXPECT_EQ(SetCookieOf(res), "") << token;
  }
}

TEST_F(WebPagesTest, WithoutASessionPagesLeadToTheSignInPage) {
  for (const char* path : {"/billing", "/settings/notifications"}) {
    auto res = Http().Get(path);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 303) << path;
    EXPECT_EQ(res->get_header_value("Location"), "/signin") << path;
  }
  // A forged cookie is no better: the server refuses its token, the cookie is cleared.
  auto forged = Http().Get(
      "/billing",
      WithCookie(auth::SignToken(std::string(48, 'x'),
                                 {"a@b.test", "acme", auth::Role::kOwner, clock_.NowUnix() + 600},
                                 clock_.NowUnix())));
  ASSERT_TRUE(forged);
  EXPECT_EQ(forged->status, 303);
  auto signin = Http().Get("/signin");
  ASSERT_TRUE(signin);
  EXPECT_EQ(signin->status, 200);
  EXPECT_THAT(signin->body, HasSubstr("Sign in through your application"));
  EXPECT_THAT(signin->body, Not(HasSubstr("exception")));
}

TEST_F(WebPagesTest, EveryCsrfFailureIsRefusedWith403AndChangesNothing) {
  const std::string session = SignIn();
  const std::string other_session = SignIn();
  const std::string csrf = CsrfOf(session);
  const std::string other_csrf = CsrfOf(other_session);
  ASSERT_FALSE(csrf.empty());
  ASSERT_FALSE(other_csrf.empty());
  ASSERT_NE(csrf, other_csrf);
  const std::string form = "email_enabled=on&email_recipients=csrf%40acme.test&psi_threshold=0.3";

  struct Case {
    const char* what;
    httplib::Headers headers;
    std::string body;
  };
  const httplib::Headers cookie = WithCookie(session);
  auto with = [&](httplib::Headers extra) {
    httplib::Headers headers = cookie;
    headers.insert(extra.begin(), extra.end());
    return headers;
  };
  const std::vector<Case> refused = {
      {"no token", with({{"Origin", origin_}}), form},
      {"wrong token", with({{"Origin", origin_}}), form + "&csrf_token=AAAA" + csrf.substr(4)},
      {"another session's token", with({{"Origin", origin_}}), form + "&csrf_token=" + other_csrf},
      {"foreign Origin", with({{"Origin", "https://evil.example"}}), form + "&csrf_token=" + csrf},
      {"foreign Referer", with({{"Referer", "https://evil.example/" + origin_}}),
       form + "&csrf_token=" + csrf},
      {"Origin null", with({{"Origin", "null"}}), form + "&csrf_token=" + csrf},
      {"neither Origin nor Referer", cookie, form + "&csrf_token=" + csrf},
      {"no session", {{"Origin", origin_}}, form + "&csrf_token=" + csrf},
  };
  for (const Case& c : refused) {
    for (const char* path : {"/settings/notifications", "/settings/notifications/test",
                             "/billing/checkout", "/billing/portal", "/logout"}) {
      // Without a session, /logout only clears the cookie (nothing to protect).
      if (std::string(c.what) == "no session" && std::string(path) == "/logout") continue;
      auto res = PostForm(path, c.headers, c.body + "&channel=email&plan=pro");
      ASSERT_TRUE(res) << c.what;
      EXPECT_EQ(res->status, 403) << c.what << " " << path;
      EXPECT_THAT(res->body, HasSubstr("Request refused")) << c.what << " " << path;
    }
    EXPECT_EQ(Settings().email_recipients_size(), 0) << c.what;
    // Not signed out by the forged /logout either.
    auto still = Http().Get("/billing", cookie);
    ASSERT_TRUE(still);
    EXPECT_EQ(still->status, 200) << c.what;
  }
  // The JSON routes with a session need the token in X-CSRF-Token.
  auto json = Http().Post("/api/billing/create_checkout_session", with({{"Origin", origin_}}),
                          R"({"plan":"pro"})", "application/json");
  ASSERT_TRUE(json);
  EXPECT_EQ(json->status, 403);
  auto json_ok = Http().Post("/api/billing/create_checkout_session",
                             with({{"Origin", origin_}, {"X-CSRF-Token", csrf}}),
                             R"({"plan":"pro"})", "application/json");
  ASSERT_TRUE(json_ok);
  EXPECT_EQ(json_ok->status, 200) << json_ok->body;

  // The same post done right (Referer instead of Origin also counts) is saved.
  auto ok = PostForm("/settings/notifications", with({{"Referer", origin_ + "/settings"}}),
                     form + "&csrf_token=" + csrf);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 303) << ok->body;
  EXPECT_EQ(ok->get_header_value("Location"), "/settings/notifications?saved=1");
  const v1::NotificationSettings saved = Settings();
  ASSERT_EQ(saved.email_recipients_size(), 1);
  EXPECT_EQ(saved.email_recipients(0), "csrf@acme.test");
}

TEST_F(WebPagesTest, SigningOutEndsTheSessionOnTheServerToo) {
  const std::string session = SignIn();
  const std::string csrf = CsrfOf(session);
  auto res = PostForm("/logout", {{"Cookie", "paybell_session=" + session}, {"Origin", origin_}},
                      "csrf_token=" + csrf);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 303);
  EXPECT_THAT(SetCookieOf(res), AllOf(HasSubstr("paybell_session=;"), HasSubstr("Max-Age=0")));
  // The old cookie, replayed: the server refuses the ended session.
  auto page = Http().Get("/billing", WithCookie(session));
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 303);
  EXPECT_EQ(page->get_header_value("Location"), "/signin");
  auto api = Http().Get("/api/billing/subscription",
                        {{"Cookie", "paybell_session=" + session}, {"X-CSRF-Token", csrf}});
  ASSERT_TRUE(api);
  EXPECT_EQ(api->status, 401);
}

TEST_F(WebPagesTest, AMemberSeesSettingsReadOnlyAndCannotChangeThem) {
  const std::string member = SignIn(auth::Role::kMember);
  auto page = Http().Get("/settings/notifications", WithCookie(member));
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_THAT(page->body, AllOf(HasSubstr("read-only-note"), Not(HasSubstr("Save settings")),
                                Not(HasSubstr("Send test email"))));
  auto billing = Http().Get("/billing", WithCookie(member));
  ASSERT_TRUE(billing);
  EXPECT_THAT(billing->body, Not(HasSubstr("Continue to checkout")));

  const std::string csrf = CsrfOf(member);
  auto res = PostForm("/settings/notifications",
                      {{"Cookie", "paybell_session=" + member}, {"Origin", origin_}},
                      "email_enabled=on&email_recipients=member%40acme.test&csrf_token=" + csrf);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403);
  EXPECT_EQ(Settings().email_recipients_size(), 0);
  auto checkout =
      PostForm("/billing/checkout", {{"Cookie", "paybell_session=" + member}, {"Origin", origin_}},
               "plan=pro&csrf_token=" + csrf);
  ASSERT_TRUE(checkout);
  EXPECT_EQ(checkout->status, 403);
  EXPECT_THAT(checkout->body, HasSubstr("Only the account owner"));
}

TEST_F(WebPagesTest, HostileInputIsShownEscapedAndKeptInTheForm) {
  const std::string session = SignIn();
  const std::string csrf = CsrfOf(session);
  const httplib::Headers headers = {{"Cookie", "paybell_session=" + session}, {"Origin", origin_}};
  // %3Cscript%3Ealert(1)%3C%2Fscript%3E%40x.test
  auto res = PostForm("/settings/notifications", headers,
                      "email_enabled=on&email_recipients=ok%40acme.test%0A%3Cscript%3Ealert(1)"
                      "%3C%2Fscript%3E%40x.test&csrf_token=" +
                          csrf);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_THAT(res->body, AllOf(HasSubstr("data-testid=\"error-email_recipients\""),
                               HasSubstr("&lt;script&gt;alert(1)&lt;"), HasSubstr("ok@acme.test"),
                               Not(HasSubstr("<script>"))));
  EXPECT_EQ(Settings().email_recipients_size(), 0);

  auto checkout = PostForm("/billing/checkout", headers,
                           "plan=pro&coupon=%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E&"
                           "csrf_token=" +
                               csrf);
  ASSERT_TRUE(checkout);
  EXPECT_EQ(checkout->status, 400);
  EXPECT_THAT(checkout->body,
              AllOf(HasSubstr("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"),
                    HasSubstr("coupon code is not valid"), Not(HasSubstr("<img src=x"))));
}

TEST_F(WebPagesTest, TheOwnerSavesSettingsAndTheSlackUrlIsNeverShown) {
  const std::string session = SignIn();
  const std::string csrf = CsrfOf(session);
  const httplib::Headers headers = {{"Cookie", "paybell_session=" + session}, {"Origin", origin_}};
  auto saved = PostForm("/settings/notifications", headers,
                        "email_enabled=on&email_recipients=a%40acme.test%0Ab%40acme.test&"
                        "slack_enabled=on&slack_webhook_url=https%3A%2F%2Fhooks.slack.com%2F"
                        "services%2FT000%2FB000%2Fsecretpart&psi_threshold=0.35&"
                        "trigger_psi_drift=on&csrf_token=" +
                            csrf);
  ASSERT_TRUE(saved);
  ASSERT_EQ(saved->status, 303) << saved->body;
  v1::NotificationSettings settings = Settings();
  EXPECT_EQ(settings.email_recipients_size(), 2);
  EXPECT_TRUE(settings.slack_enabled());
  EXPECT_DOUBLE_EQ(settings.psi_threshold(), 0.35);
  EXPECT_EQ(settings.disabled_triggers_size(), 7);  // all but psi_drift

  auto page =
      Http().Get("/settings/notifications?saved=1", {{"Cookie", "paybell_session=" + session}});
  ASSERT_TRUE(page);
  EXPECT_THAT(page->body, AllOf(HasSubstr("banner-saved"), HasSubstr("hooks.slack.com"),
                                Not(HasSubstr("secretpart"))));

  // Saving again without a new URL keeps the stored one (the page never had it).
  auto again = PostForm("/settings/notifications", headers,
                        "email_enabled=on&email_recipients=a%40acme.test&slack_enabled=on&"
                        "psi_threshold=0.35&csrf_token=" +
                            csrf);
  ASSERT_TRUE(again);
  ASSERT_EQ(again->status, 303) << again->body;
  EXPECT_EQ(Settings().slack_webhook_url(), settings.slack_webhook_url());
  // Remove it.
  auto removed = PostForm("/settings/notifications", headers,
                          "email_recipients=a%40acme.test&slack_remove=on&csrf_token=" + csrf);
  ASSERT_TRUE(removed);
  ASSERT_EQ(removed->status, 303) << removed->body;
  EXPECT_EQ(Settings().slack_webhook_url(), "");
}

TEST_F(WebPagesTest, StubModeCheckoutAndPortalAnswer303ToTheExplanationPage) {
  const std::string session = SignIn();
  const std::string csrf = CsrfOf(session);
  const httplib::Headers headers = {{"Cookie", "paybell_session=" + session}, {"Origin", origin_}};
  auto checkout = PostForm("/billing/checkout", headers, "plan=pro&coupon=&csrf_token=" + csrf);
  ASSERT_TRUE(checkout);
  EXPECT_EQ(checkout->status, 303) << checkout->body;
  EXPECT_EQ(checkout->get_header_value("Location"),
            origin_ + "/billing/stripe-not-configured?plan=pro");
  auto bad_plan = PostForm("/billing/checkout", headers, "plan=gold&csrf_token=" + csrf);
  ASSERT_TRUE(bad_plan);
  EXPECT_EQ(bad_plan->status, 400);
  EXPECT_THAT(bad_plan->body, HasSubstr("Choose a plan"));
}

TEST_F(WebPagesTest, TheBillingPageListsInvoicesNewestFirstAndAnOlderEventNeverWins) {
  const int64_t now = clock_.NowUnix();
  auto post = [&](const std::string& event_id, const std::string& type, int64_t created,
                  const testing::InvoiceSpec& spec) {
    const std::string payload = testing::EventPayload(
        event_id, type, created, testing::InvoiceObject(spec, testing::ApiShape::kCurrent));
    auto res =
        Http().Post("/stripe/webhook",
                    {{"Stripe-Signature", testing::SignatureHeader(kWebhookSecret, now, payload)}},
                    payload, "application/json");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
  };
  testing::InvoiceSpec march;
  march.id = "in_march";
  march.tenant_id = "acme";
  march.subscription = "sub_acme";
  march.customer = "cus_acme";
  march.number = "ACME-0001";
  march.created = now - 86400 * 40;
  march.status = "paid";
  march.amount_paid = 4900;
  testing::InvoiceSpec april = march;
  april.id = "in_april";
  april.number = "ACME-0002";
  april.created = now - 86400 * 10;
  april.amount_due = 12345;
  april.amount_paid = 12345;
  april.hosted_invoice_url = "https://invoice.stripe.com/i/acct_1/test_in_april";
  april.invoice_pdf = "https://pay.stripe.com/invoice/acct_1/test_in_april/pdf";
  testing::InvoiceSpec april_failed = april;
  april_failed.status = "open";
  april_failed.amount_paid = 0;

  post("evt_inv_1", "invoice.paid", now - 86400 * 40, march);
  post("evt_inv_2", "invoice.paid", now - 60, april);
  // An older attempt of April's invoice, delivered last: the page still says Paid.
  post("evt_inv_3", "invoice.payment_failed", now - 3600, april_failed);

  const std::string session = SignIn();
  auto page = Http().Get("/billing", WithCookie(session));
  ASSERT_TRUE(page);
  ASSERT_EQ(page->status, 200);
  const std::string& body = page->body;
  const size_t newer = body.find("data-invoice-id=\"in_april\"");
  const size_t older = body.find("data-invoice-id=\"in_march\"");
  ASSERT_NE(newer, std::string::npos) << body;
  ASSERT_NE(older, std::string::npos) << body;
  EXPECT_LT(newer, older);
  const std::string april_row = body.substr(newer, older - newer);
  EXPECT_THAT(april_row, AllOf(HasSubstr("ACME-0002"), HasSubstr("123.45 USD"), HasSubstr(">Paid<"),
                               HasSubstr("Download PDF"), HasSubstr("test_in_april")));
  // Another tenant sees none of them.
  auto other = Http().Get("/billing", WithCookie(SignIn(auth::Role::kOwner, "globex")));
  ASSERT_TRUE(other);
  EXPECT_THAT(other->body, AllOf(HasSubstr("No invoices yet"), Not(HasSubstr("ACME-000"))));
}

TEST_F(WebPagesTest, TokensWithBytesGrpcRefusesAreTurnedAwayAndTheServerStaysUp) {
  const std::string session = SignIn();
  for (const std::string& bad : {session + "\x01", session + "\x7f", session + "\xc3\xa9"}) {
    auto page = Http().Get("/billing", WithCookie(bad));
    ASSERT_TRUE(page) << "the server went away";
    EXPECT_EQ(page->status, 303);
    auto api = Http().Get("/api/billing/subscription", {{"Authorization", "Bearer " + bad}});
    ASSERT_TRUE(api) << "the server went away";
    EXPECT_EQ(api->status, 401);
    std::string escaped;
    for (unsigned char c : bad) {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      escaped += std::isalnum(c) || c == '.' || c == '-' || c == '_' ? std::string(1, c) : hex;
    }
    auto login = Http().Get("/login?token=" + escaped);
    ASSERT_TRUE(login) << "the server went away";
    EXPECT_EQ(login->status, 401);
  }
  auto health = Http().Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
}

TEST_F(WebPagesTest, ALinkCheckersHeadRequestDoesNotUseUpTheSignInLink) {
  const std::string token = LoginToken(auth::Role::kOwner);
  auto head = Http().Head("/login?token=" + token);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(SetCookieOf(head), "");
  auto get = Http().Get("/login?token=" + token);
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 303);
  EXPECT_NE(CookieValue(SetCookieOf(get)), "");
}

TEST_F(WebPagesTest, SavingThePageUnchangedKeepsAPreciseThreshold) {
  const std::string session = SignIn();
  const std::string csrf = CsrfOf(session);
  const httplib::Headers headers = {{"Cookie", "paybell_session=" + session}, {"Origin", origin_}};
  auto saved = PostForm("/settings/notifications", headers,
                        "psi_threshold=0.004&trigger_psi_drift=on&csrf_token=" + csrf);
  ASSERT_TRUE(saved);
  ASSERT_EQ(saved->status, 303) << saved->body;
  auto page = Http().Get("/settings/notifications", WithCookie(session));
  ASSERT_TRUE(page);
  std::smatch match;
  ASSERT_TRUE(std::regex_search(page->body, match,
                                std::regex(R"re(name="psi_threshold" value="([^"]*)")re")));
  EXPECT_EQ(match[1].str(), "0.004");
  auto again =
      PostForm("/settings/notifications", headers,
               "psi_threshold=" + match[1].str() + "&trigger_psi_drift=on&csrf_token=" + csrf);
  ASSERT_TRUE(again);
  ASSERT_EQ(again->status, 303);
  EXPECT_DOUBLE_EQ(Settings().psi_threshold(), 0.004);
}

class SecureWebPagesTest : public WebPagesTest {
 protected:
  void SetUp() override { StartServer({{"APP_URL", "https://billing.example.test"}}); }
};

TEST_F(SecureWebPagesTest, TheCookieIsSecureAndPostsMustComeFromAppUrl) {
  auto res = Http().Get("/login?token=" + LoginToken(auth::Role::kOwner));
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 303);
  EXPECT_THAT(SetCookieOf(res), AllOf(HasSubstr("__Host-paybell_session="), HasSubstr("; Secure")));
  const std::string session = CookieValue(SetCookieOf(res));
  const std::string csrf = CsrfOf(session, "__Host-paybell_session");
  // The adapter's own address is not APP_URL's origin.
  auto post = PostForm("/settings/notifications",
                       {{"Cookie", "__Host-paybell_session=" + session}, {"Origin", origin_}},
                       "email_recipients=a%40acme.test&csrf_token=" + csrf);
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 403);
  auto from_app = PostForm(
      "/settings/notifications",
      {{"Cookie", "__Host-paybell_session=" + session}, {"Origin", "https://billing.example.test"}},
      "email_recipients=a%40acme.test&csrf_token=" + csrf);
  ASSERT_TRUE(from_app);
  EXPECT_EQ(from_app->status, 303);
}

}  // namespace
}  // namespace paybell

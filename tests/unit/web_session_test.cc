// The adapter's half of browser sessions: which cookie is a session, where a request comes
// from, and the CSRF verdicts (the HTTP-level matrix is in tests/e2e/web_pages_test.cc).
#include "rest_adapter/web_session.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "server/common/encoding.h"

namespace paybell::rest {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// An unsigned JWT-shaped token with these claims (the adapter never checks signatures).
std::string Token(const nlohmann::json& claims) {
  return common::Base64UrlEncode(R"({"alg":"HS256","typ":"JWT"})") + "." +
         common::Base64UrlEncode(claims.dump()) + ".sig";
}

const nlohmann::json kSessionClaims = {
    {"sub", "owner@acme.test"}, {"tenant_id", "acme"}, {"role", "owner"},
    {"exp", 2000000000},        {"sid", "s1"},         {"csrf", "csrf-token-1"}};

httplib::Request Request(const std::string& cookie_header) {
  httplib::Request req;
  req.method = "POST";
  if (!cookie_header.empty()) req.headers.emplace("Cookie", cookie_header);
  return req;
}

TEST(WebSessionTest, TheSessionComesFromItsCookieAmongOthers) {
  const std::string token = Token(kSessionClaims);
  const auto session =
      SessionFromRequest(Request("theme=dark; paybell_session=" + token + "; other=1"), false);
  ASSERT_TRUE(session);
  EXPECT_EQ(session->token, token);
  EXPECT_EQ(session->tenant_id, "acme");
  EXPECT_EQ(session->role, "owner");
  EXPECT_EQ(session->csrf, "csrf-token-1");
  EXPECT_EQ(session->expires_at, 2000000000);
}

TEST(WebSessionTest, AnythingButASessionTokenIsNoSession) {
  nlohmann::json no_sid = kSessionClaims;
  no_sid.erase("sid");
  nlohmann::json no_csrf = kSessionClaims;
  no_csrf.erase("csrf");
  for (const std::string& header :
       {std::string(), std::string("paybell_session="), std::string("paybell_session=abc"),
        "paybell_session=" + Token(no_sid), "paybell_session=" + Token(no_csrf),
        "paybell_sessionx=" + Token(kSessionClaims), "paybell_session=" + std::string(9000, 'a')}) {
    EXPECT_FALSE(SessionFromRequest(Request(header), false)) << header.substr(0, 60);
  }
}

TEST(WebSessionTest, OnHttpsOnlyTheHostPrefixedCookieIsASession) {
  const std::string token = Token(kSessionClaims);
  EXPECT_FALSE(SessionFromRequest(Request("paybell_session=" + token), true));
  EXPECT_TRUE(SessionFromRequest(Request("__Host-paybell_session=" + token), true));
  EXPECT_FALSE(SessionFromRequest(Request("__Host-paybell_session=" + token), false));
  EXPECT_EQ(SessionCookie("abc", 60, true).rfind("__Host-paybell_session=abc; Path=/;", 0), 0u);
}

TEST(WebSessionTest, OnlyJwtCharactersMakeAToken) {
  const std::string token = Token(kSessionClaims);
  EXPECT_TRUE(IsTokenText(token));
  // Bytes gRPC refuses in metadata (it aborts the process on them) never pass.
  for (const std::string& bad : {token + "\x01", token + "\x7f", token + "\xc3\xa9", token + "\t",
                                 std::string(), std::string(8193, 'a')}) {
    EXPECT_FALSE(IsTokenText(bad));
    EXPECT_FALSE(SessionFromRequest(Request("paybell_session=" + bad), false));
  }
  EXPECT_FALSE(IsTokenText(token + " x"));
}

TEST(WebSessionTest, OnlyHttpsOrLoopbackLinksAreFollowed) {
  EXPECT_TRUE(IsSafeLink("https://invoice.stripe.com/i/acct_1/test_x"));
  EXPECT_TRUE(IsSafeLink("http://127.0.0.1:4242/checkout/cs_1"));
  EXPECT_TRUE(IsSafeLink("http://localhost:4242/pay"));
  for (const char* bad : {"javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,<script>",
                          "http://evil.example/", "//evil.example/x", "https://", "",
                          "https://a.example/\x01", "vbscript:x"}) {
    EXPECT_FALSE(IsSafeLink(bad)) << bad;
  }
}

TEST(WebSessionTest, OriginsAreSchemeHostAndPortWithoutDefaults) {
  EXPECT_EQ(OriginOf("https://App.Example.com/billing?x=1"), "https://app.example.com");
  EXPECT_EQ(OriginOf("https://app.example.com:443/"), "https://app.example.com");
  EXPECT_EQ(OriginOf("http://localhost:8080"), "http://localhost:8080");
  EXPECT_EQ(OriginOf("http://[::1]:8080/x"), "http://[::1]:8080");
  EXPECT_FALSE(OriginOf("null"));
  EXPECT_FALSE(OriginOf("javascript:alert(1)"));
  EXPECT_FALSE(OriginOf(""));
}

class CsrfTest : public ::testing::Test {
 protected:
  CsrfVerdict Check(const httplib::Headers& headers, const std::string& field = "",
                    bool require_origin = true) {
    httplib::Request req;
    req.method = "POST";
    req.headers = headers;
    if (!field.empty()) req.params.emplace("csrf_token", field);
    return CheckCsrf(req, session_, "http://localhost:8080", require_origin);
  }
  BrowserSession session_{"t", "acme", "owner@acme.test", "owner", "csrf-token-1", 0};
};

TEST_F(CsrfTest, TheTokenAndTheOriginMustBothBeRight) {
  const httplib::Headers origin = {{"Origin", "http://localhost:8080"}};
  EXPECT_EQ(Check(origin, "csrf-token-1"), CsrfVerdict::kOk);
  EXPECT_EQ(Check({{"Origin", "http://localhost:8080"}, {"X-CSRF-Token", "csrf-token-1"}}),
            CsrfVerdict::kOk);
  EXPECT_EQ(Check({{"Referer", "http://localhost:8080/billing"}}, "csrf-token-1"),
            CsrfVerdict::kOk);
  EXPECT_EQ(Check(origin), CsrfVerdict::kMissingToken);
  EXPECT_EQ(Check(origin, "csrf-token-2"), CsrfVerdict::kWrongToken);
  EXPECT_EQ(Check(origin, "csrf-token-"), CsrfVerdict::kWrongToken);
  EXPECT_EQ(Check({}, "csrf-token-1"), CsrfVerdict::kNoOrigin);
  EXPECT_EQ(Check({{"Origin", "http://localhost:8081"}}, "csrf-token-1"),
            CsrfVerdict::kForeignOrigin);
  EXPECT_EQ(Check({{"Origin", "https://localhost:8080"}}, "csrf-token-1"),
            CsrfVerdict::kForeignOrigin);
  EXPECT_EQ(Check({{"Origin", "null"}}, "csrf-token-1"), CsrfVerdict::kForeignOrigin);
  EXPECT_EQ(Check({{"Referer", "http://localhost:8080.evil.example/"}}, "csrf-token-1"),
            CsrfVerdict::kForeignOrigin);
  // A GET (JSON reads with a session) needs the token but no Origin; a foreign one still fails.
  EXPECT_EQ(Check({{"X-CSRF-Token", "csrf-token-1"}}, "", false), CsrfVerdict::kOk);
  EXPECT_EQ(Check({}, "", false), CsrfVerdict::kMissingToken);
  EXPECT_EQ(
      Check({{"Origin", "https://evil.example"}, {"X-CSRF-Token", "csrf-token-1"}}, "", false),
      CsrfVerdict::kForeignOrigin);
}

TEST(WebSessionTest, CookiesCarryTheirFlags) {
  EXPECT_EQ(SessionCookie("abc", 3600, false),
            "paybell_session=abc; Path=/; HttpOnly; SameSite=Lax; Max-Age=3600");
  EXPECT_THAT(SessionCookie("abc", 3600, true), HasSubstr("; Secure"));
  EXPECT_THAT(ClearedSessionCookie(false), HasSubstr("paybell_session=; "));
  EXPECT_THAT(ClearedSessionCookie(false), HasSubstr("Max-Age=0"));
  EXPECT_THAT(ClearedSessionCookie(false), Not(HasSubstr("Secure")));
}

}  // namespace
}  // namespace paybell::rest

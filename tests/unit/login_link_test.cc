#include "server/sessions/login_link.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "server/auth/jwt.h"
#include "server/common/error.h"
#include "server/sessions/login_token.h"

namespace paybell::sessions {
namespace {

using common::Error;
using ::testing::HasSubstr;
using ::testing::StartsWith;

const std::string kSecret = "0123456789abcdef0123456789abcdef-link-secret";
constexpr int64_t kNow = 1'800'000'000;

LoginLinkRequest Request() {
  LoginLinkRequest r;
  r.tenant_id = "acme";
  r.email = "ann@example.com";
  r.role = "owner";
  return r;
}

std::string TokenOf(const std::string& link) {
  const std::string marker = "/login?token=";
  return link.substr(link.find(marker) + marker.size());
}

std::string Refusal(const LoginLinkRequest& request) {
  try {
    MintLoginLink("http://localhost:8080", request, kSecret, kNow);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), common::ErrorCode::kInvalidArgument);
    return e.what();
  }
  ADD_FAILURE() << "accepted";
  return "";
}

TEST(LoginLinkTest, MintsALinkThatStartsASession) {
  const std::string link = MintLoginLink("https://billing.example.com", Request(), kSecret, kNow);
  EXPECT_THAT(link, StartsWith("https://billing.example.com/login?token=ey"));
  common::FakeClock clock(kNow);
  auth::JwtVerifier verifier(kSecret, clock);
  const auth::Principal p = LoginTokenVerifier(verifier, clock).Verify(TokenOf(link));
  EXPECT_EQ(p.subject, "ann@example.com");
  EXPECT_EQ(p.tenant_id, "acme");
  EXPECT_EQ(p.role, auth::Role::kOwner);
  EXPECT_EQ(p.purpose, "login");
  EXPECT_EQ(p.expires_at, kNow + 900);
  EXPECT_EQ(p.issued_at, kNow);
  EXPECT_GE(p.token_id.size(), 16u);
  // Every link has its own id, so each is single use on its own.
  const std::string other = MintLoginLink("https://billing.example.com", Request(), kSecret, kNow);
  EXPECT_NE(verifier.Verify(TokenOf(other)).token_id, p.token_id);
}

TEST(LoginLinkTest, RefusesBadOptions) {
  LoginLinkRequest r = Request();
  r.role = "operator";
  EXPECT_THAT(Refusal(r), HasSubstr("--role"));
  r = Request();
  r.ttl_s = 901;
  EXPECT_THAT(Refusal(r), HasSubstr("--ttl"));
  r.ttl_s = 0;
  EXPECT_THAT(Refusal(r), HasSubstr("--ttl"));
  r = Request();
  r.tenant_id = "a b";
  EXPECT_THAT(Refusal(r), HasSubstr("--tenant"));
  r.tenant_id = "*";
  EXPECT_THAT(Refusal(r), HasSubstr("--tenant"));
  for (const std::string& email :
       {std::string(""), std::string("ann"), std::string("@example.com"), std::string("ann@"),
        std::string("a@b@c"), std::string("ann @example.com"), std::string("ann@exa\tmple.com"),
        std::string("ann@example.com\n"), std::string(250, 'a') + "@b.co"}) {
    r = Request();
    r.email = email;
    EXPECT_THAT(Refusal(r), HasSubstr("--email")) << email;
  }
}

TEST(LoginLinkTest, BaseIsTheFlagThenAppUrlThenTheAdapterAddress) {
  common::Config config;
  EXPECT_EQ(LoginLinkBase(config, "https://pay.example.com/"), "https://pay.example.com");
  EXPECT_THROW(LoginLinkBase(config, "ftp://pay.example.com"), Error);
  EXPECT_THROW(LoginLinkBase(config, "pay.example.com"), Error);

  config.http_listen = "0.0.0.0:8088";
  EXPECT_EQ(LoginLinkBase(config, ""), "http://localhost:8088");

  config.app_url = "https://billing.example.com";
  config.app_url_set = true;
  EXPECT_EQ(LoginLinkBase(config, ""), "https://billing.example.com");
}

TEST(LoginLinkTest, AskForAppUrlWhenNoPageWouldAnswer) {
  common::Config config;
  config.http_listen = "";
  EXPECT_THAT([&] { LoginLinkBase(config, ""); },
              ::testing::ThrowsMessage<Error>(HasSubstr("--app-url")));
  config.http_listen = "127.0.0.1:0";
  EXPECT_THAT([&] { LoginLinkBase(config, ""); },
              ::testing::ThrowsMessage<Error>(HasSubstr("--app-url")));
  EXPECT_EQ(LoginLinkBase(config, "http://127.0.0.1:9000"), "http://127.0.0.1:9000");
}

}  // namespace
}  // namespace paybell::sessions

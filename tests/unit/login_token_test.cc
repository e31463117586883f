#include "server/sessions/login_token.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "server/common/error.h"
#include "server/sessions/browser_sessions.h"
#include "server/sessions/session_checker.h"
#include "tests/mocks/mock_database.h"

namespace paybell::sessions {
namespace {

using auth::Principal;
using auth::Role;
using common::Error;
using common::ErrorCode;
using common::FakeClock;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kSecret = "0123456789abcdef0123456789abcdef-login-secret";
constexpr int64_t kNow = 1'800'000'000;

// What paybellctl login-link mints: 15 minutes, a jti, purpose "login".
Principal Link(int64_t issued_at = kNow, int64_t ttl = 900) {
  Principal p;
  p.subject = "ann@example.com";
  p.tenant_id = "acme";
  p.role = Role::kOwner;
  p.expires_at = issued_at + ttl;
  p.token_id = "jti-1";
  p.purpose = "login";
  return p;
}

class LoginTokenTest : public ::testing::Test {
 protected:
  std::string Sign(const Principal& p, int64_t issued_at = kNow) {
    return auth::SignToken(kSecret, p, issued_at);
  }
  // The reason the link is refused; fails the test when it is accepted.
  std::string Refusal(const std::string& token) {
    try {
      login_.Verify(token);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kUnauthenticated) << e.what();
      EXPECT_THAT(e.what(), Not(HasSubstr(token)));
      return e.what();
    }
    ADD_FAILURE() << "the sign-in link was accepted";
    return "";
  }

  FakeClock clock_{kNow};
  auth::JwtVerifier verifier_{kSecret, clock_};
  LoginTokenVerifier login_{verifier_, clock_};
};

TEST_F(LoginTokenTest, AcceptsAFreshLinkOfEveryTenantRole) {
  for (Role role : {Role::kOwner, Role::kAdmin, Role::kMember}) {
    Principal link = Link();
    link.role = role;
    const Principal p = login_.Verify(Sign(link));
    EXPECT_EQ(p.subject, "ann@example.com");
    EXPECT_EQ(p.tenant_id, "acme");
    EXPECT_EQ(p.role, role);
    EXPECT_EQ(p.token_id, "jti-1");
  }
  // Links from the main application need not say their purpose.
  Principal unlabelled = Link();
  unlabelled.purpose = "";
  EXPECT_EQ(login_.Verify(Sign(unlabelled)).token_id, "jti-1");
}

TEST_F(LoginTokenTest, AcceptsALinkUntilItsLastSecond) {
  const std::string token = Sign(Link());
  clock_.Set(kNow + 899);
  EXPECT_NO_THROW(login_.Verify(token));
}

TEST_F(LoginTokenTest, RefusesAnExpiredLinkSayingSo) {
  const std::string token = Sign(Link());
  clock_.Set(kNow + 900);
  EXPECT_EQ(Refusal(token), "this sign-in link has expired");
}

TEST_F(LoginTokenTest, RefusesALinkLivingLongerThanFifteenMinutes) {
  // 16 minutes from iat, though only 15 minutes remain now.
  const Principal sixteen = Link(kNow - 60, 960);
  EXPECT_THAT(Refusal(Sign(sixteen, kNow - 60)), HasSubstr("15 minutes"));
  // 16 minutes from iat and from now.
  EXPECT_THAT(Refusal(Sign(Link(kNow, 960), kNow)), HasSubstr("15 minutes"));
  // A few seconds of clock skew between minter and server are fine.
  clock_.Set(kNow - 3);
  EXPECT_NO_THROW(login_.Verify(Sign(Link())));
  clock_.Set(kNow - 30);
  EXPECT_THAT(Refusal(Sign(Link())), HasSubstr("15 minutes"));
}

TEST_F(LoginTokenTest, CheckLoginClaimsBoundsLifetimeWithoutIat) {
  Principal no_iat = Link();
  no_iat.issued_at.reset();
  EXPECT_NO_THROW(CheckLoginClaims(no_iat, kNow));
  no_iat.expires_at = kNow + 906;
  EXPECT_THROW(CheckLoginClaims(no_iat, kNow), Error);
}

TEST_F(LoginTokenTest, RefusesALinkWithoutJti) {
  Principal link = Link();
  link.token_id = "";
  EXPECT_THAT(Refusal(Sign(link)), HasSubstr("jti"));
}

TEST_F(LoginTokenTest, RefusesServiceAndOperatorTokensAndAllTenants) {
  for (Role role : {Role::kService, Role::kOperator}) {
    for (const char* tenant : {"*", "acme"}) {
      Principal link = Link();
      link.role = role;
      link.tenant_id = tenant;
      EXPECT_THAT(Refusal(Sign(link)), HasSubstr("owner, admin or member")) << tenant;
    }
  }
  Principal all = Link();
  all.tenant_id = "*";
  Refusal(Sign(all));  // the verifier refuses '*' for user roles already
}

TEST_F(LoginTokenTest, RefusesASessionTokenAsALink) {
  Principal session = Link();
  session.purpose = "";
  session.session_id = "sess-1";
  EXPECT_THAT(Refusal(auth::SignSessionToken(kSecret, session, kNow, "csrf")),
              HasSubstr("session token"));
}

TEST_F(LoginTokenTest, RefusesOtherPurposes) {
  Principal other = Link();
  other.purpose = "reset-password";
  EXPECT_THAT(Refusal(Sign(other)), HasSubstr("not a sign-in link"));
}

TEST_F(LoginTokenTest, RefusesForgeriesAndGarbageWithoutRepeatingThem) {
  EXPECT_EQ(Refusal(auth::SignToken(std::string(40, 'x'), Link(), kNow)),
            "this sign-in link is not valid");
  EXPECT_EQ(Refusal("eyJhbGciOiJIUzI1NiJ9.garbage.sig"), "this sign-in link is not valid");
  try {
    login_.Verify("");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  }
}

db::WebSession Row() {
  db::WebSession s;
  s.session_id = "sess-1";
  s.login_jti = "jti-1";
  s.tenant_id = "acme";
  s.subject = "ann@example.com";
  s.role = Role::kAdmin;
  s.created_at = kNow;
  s.expires_at = kNow + 43200;
  return s;
}

Principal SessionPrincipal() {
  Principal p;
  p.subject = "ann@example.com";
  p.tenant_id = "acme";
  p.role = Role::kAdmin;
  p.expires_at = kNow + 43200;
  p.session_id = "sess-1";
  return p;
}

TEST(SessionCoversTest, ALiveSessionCoversItsOwnToken) {
  EXPECT_TRUE(SessionCovers(Row(), SessionPrincipal(), kNow));
  EXPECT_TRUE(SessionCovers(Row(), SessionPrincipal(), kNow + 43199));
}

TEST(SessionCoversTest, EndedOrExpiredSessionsCoverNothing) {
  db::WebSession ended = Row();
  ended.ended_at = kNow + 10;
  EXPECT_FALSE(SessionCovers(ended, SessionPrincipal(), kNow + 20));
  EXPECT_FALSE(SessionCovers(Row(), SessionPrincipal(), kNow + 43200));
}

TEST(SessionCoversTest, ATokenClaimingAnotherTenantSubjectOrRoleIsNotCovered) {
  Principal other = SessionPrincipal();
  other.tenant_id = "globex";
  EXPECT_FALSE(SessionCovers(Row(), other, kNow));
  other = SessionPrincipal();
  other.subject = "eve@example.com";
  EXPECT_FALSE(SessionCovers(Row(), other, kNow));
  other = SessionPrincipal();
  other.role = Role::kOwner;
  EXPECT_FALSE(SessionCovers(Row(), other, kNow));
}

}  // namespace
}  // namespace paybell::sessions

namespace paybell::sessions {
namespace {

// A unit of work run again after its COMMIT's answer was lost finds its own row: the start
// succeeds (and is audited once) instead of calling the person's link "already used".
TEST(BrowserSessionsTest, ARetriedStartThatHadCommittedIsNotAReuse) {
  common::FakeClock clock(kNow);
  auth::JwtVerifier verifier(kSecret, clock);
  LoginTokenVerifier links(verifier, clock);
  testing::FakeDatabase database;
  BrowserSessions sessions(database, links, kSecret, clock);
  auto& repo = database.unit.sessions_;
  db::WebSession stored;
  EXPECT_CALL(repo, Insert(::testing::_)).WillOnce([&](const db::WebSession& row) {
    stored = row;  // the first run's row, committed before the connection was lost
    return false;  // what the retried run sees
  });
  EXPECT_CALL(repo, Find(::testing::_)).WillOnce([&](const std::string& id) {
    return id == stored.session_id ? std::optional<db::WebSession>(stored) : std::nullopt;
  });
  EXPECT_CALL(database.unit.audit_, Append(::testing::_)).Times(0);
  const StartedSession started = sessions.Start(auth::SignToken(kSecret, Link(), kNow), "req-1");
  EXPECT_EQ(started.principal.session_id, stored.session_id);
  EXPECT_FALSE(started.session_token.empty());
}

TEST(BrowserSessionsTest, ALinkUsedByAnotherStartIsRefused) {
  common::FakeClock clock(kNow);
  auth::JwtVerifier verifier(kSecret, clock);
  LoginTokenVerifier links(verifier, clock);
  testing::FakeDatabase database;
  BrowserSessions sessions(database, links, kSecret, clock);
  EXPECT_CALL(database.unit.sessions_, Insert(::testing::_)).WillOnce(::testing::Return(false));
  EXPECT_CALL(database.unit.sessions_, Find(::testing::_))
      .WillOnce(::testing::Return(std::nullopt));
  try {
    sessions.Start(auth::SignToken(kSecret, Link(), kNow), "req-1");
    FAIL() << "a used link started a session";
  } catch (const common::Error& e) {
    EXPECT_EQ(e.code(), common::ErrorCode::kUnauthenticated);
    EXPECT_THAT(e.what(), ::testing::HasSubstr("already used"));
  }
}

}  // namespace
}  // namespace paybell::sessions

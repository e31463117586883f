#include "server/auth/jwt.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <memory>
#include <thread>
#include <vector>

#include "server/common/encoding.h"
#include "server/common/error.h"

namespace paybell::auth {
namespace {

using common::Error;
using common::ErrorCode;
using common::FakeClock;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kSecret = "0123456789abcdef0123456789abcdef-test-secret";
constexpr int64_t kNow = 1'800'000'000;

std::string Base64Url(const std::string& in) { return common::Base64UrlEncode(in); }

Principal Owner(int64_t exp = kNow + 600) {
  return {"ann@example.com", "t1", Role::kOwner, exp, ""};
}

// Signs arbitrary claims with libjwt and the given algorithm, for tokens SignToken won't make.
std::string SignRaw(const std::string& claims_json, jwt_alg_t alg, const std::string& key) {
  jwt_t* raw = nullptr;
  jwt_new(&raw);
  std::unique_ptr<jwt_t, decltype(&jwt_free)> jwt(raw, &jwt_free);
  jwt_add_grants_json(jwt.get(), claims_json.c_str());
  jwt_set_alg(jwt.get(), alg, reinterpret_cast<const unsigned char*>(key.data()),
              static_cast<int>(key.size()));
  std::unique_ptr<char, decltype(&free)> token(jwt_encode_str(jwt.get()), &free);
  return token.get();
}

class JwtTest : public ::testing::Test {
 protected:
  // The reason Verify gives for refusing `token`; fails the test if it accepts it.
  std::string Refusal(const std::string& token) {
    try {
      verifier_.Verify(token);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kUnauthenticated);
      return e.what();
    }
    ADD_FAILURE() << "token was accepted";
    return "";
  }

  FakeClock clock_{kNow};
  JwtVerifier verifier_{kSecret, clock_};
};

TEST_F(JwtTest, AcceptsItsOwnTokens) {
  const Principal p = verifier_.Verify(SignToken(kSecret, Owner(), kNow));
  EXPECT_EQ(p.subject, "ann@example.com");
  EXPECT_EQ(p.tenant_id, "t1");
  EXPECT_EQ(p.role, Role::kOwner);
  EXPECT_EQ(p.expires_at, kNow + 600);
  EXPECT_FALSE(p.all_tenants());
}

// paybellctl acts for a tenant's owner with a token naming the operator as its actor (RFC 8693
// "act"), so the audit log can say who really acted.
TEST_F(JwtTest, CarriesTheActorOfATokenUsedOnSomeoneElsesBehalf) {
  Principal owner = Owner();
  EXPECT_EQ(verifier_.Verify(SignToken(kSecret, owner, kNow)).actor, "");
  owner.actor = "dana (paybellctl)";
  EXPECT_EQ(verifier_.Verify(SignToken(kSecret, owner, kNow)).actor, "dana (paybellctl)");
  for (const char* act :
       {R"("act":"dana")", R"("act":{})", R"("act":{"sub":""})", R"("act":{"sub":7})"}) {
    EXPECT_THAT(Refusal(SignRaw(std::string(R"({"sub":"a","tenant_id":"t1","role":"owner",)") +
                                    R"("exp":1800000600,)" + act + "}",
                                JWT_ALG_HS256, kSecret)),
                HasSubstr("act"))
        << act;
  }
}

TEST_F(JwtTest, AcceptsTokensFromOtherLibrariesWithExtraClaims) {
  const std::string token = SignRaw(
      R"({"sub":"billing-worker","tenant_id":"*","role":"service","exp":1800000600,"iss":"app","aud":["x"]})",
      JWT_ALG_HS256, kSecret);
  const Principal p = verifier_.Verify(token);
  EXPECT_EQ(p.role, Role::kService);
  EXPECT_TRUE(p.all_tenants());
}

TEST_F(JwtTest, RefusesExpiredTokens) {
  EXPECT_THAT(Refusal(SignToken(kSecret, Owner(kNow - 1), kNow - 100)), HasSubstr("expired"));
  EXPECT_THAT(Refusal(SignToken(kSecret, Owner(kNow), kNow - 100)), HasSubstr("expired"));
}

TEST_F(JwtTest, RefusesTokensWithoutExpiry) {
  EXPECT_THAT(
      Refusal(SignRaw(R"({"sub":"a","tenant_id":"t1","role":"owner"})", JWT_ALG_HS256, kSecret)),
      HasSubstr("exp"));
}

TEST_F(JwtTest, RefusesTokensNotValidYet) {
  EXPECT_THAT(
      Refusal(SignRaw(
          R"({"sub":"a","tenant_id":"t1","role":"owner","exp":1800000600,"nbf":1800000100})",
          JWT_ALG_HS256, kSecret)),
      HasSubstr("not valid yet"));
}

TEST_F(JwtTest, RefusesOutOfRangeTimes) {
  Refusal(SignRaw(R"({"sub":"a","tenant_id":"t1","role":"owner","exp":1e300})", JWT_ALG_HS256,
                  kSecret));
  Refusal(SignRaw(R"({"sub":"a","tenant_id":"t1","role":"owner","exp":1800000600,"nbf":-1e300})",
                  JWT_ALG_HS256, kSecret));
}

TEST_F(JwtTest, RefusesForgedSignatures) {
  Refusal(SignToken("another-secret-another-secret-another", Owner(), kNow));
  std::string token = SignToken(kSecret, Owner(), kNow);
  token.back() = token.back() == 'A' ? 'B' : 'A';
  Refusal(token);
}

TEST_F(JwtTest, RefusesAPayloadSwappedUnderAValidSignature) {
  const std::string token = SignToken(kSecret, Owner(), kNow);
  const size_t dot1 = token.find('.');
  const size_t dot2 = token.find('.', dot1 + 1);
  const std::string forged =
      token.substr(0, dot1 + 1) +
      Base64Url(R"({"sub":"eve","tenant_id":"*","role":"operator","exp":1800000600})") +
      token.substr(dot2);
  Refusal(forged);
}

TEST_F(JwtTest, RefusesAlgNone) {
  const std::string token =
      Base64Url(R"({"alg":"none","typ":"JWT"})") + "." +
      Base64Url(R"({"sub":"eve","tenant_id":"*","role":"operator","exp":1800000600})") + ".";
  Refusal(token);
}

TEST_F(JwtTest, RefusesOtherHmacAlgorithmsEvenWithTheRightKey) {
  const std::string claims = R"({"sub":"a","tenant_id":"t1","role":"owner","exp":1800000600})";
  EXPECT_THAT(Refusal(SignRaw(claims, JWT_ALG_HS512, kSecret)), HasSubstr("HS256"));
  EXPECT_THAT(Refusal(SignRaw(claims, JWT_ALG_HS384, kSecret)), HasSubstr("HS256"));
}

// Signs `header.claims` with HMAC-SHA256 by hand, for headers libjwt will not write.
std::string SignWithHeader(const std::string& header, const std::string& claims) {
  const std::string signing_input = Base64Url(header) + "." + Base64Url(claims);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), kSecret.data(), static_cast<int>(kSecret.size()),
       reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(), mac,
       &mac_len);
  return signing_input + "." + Base64Url(std::string(reinterpret_cast<char*>(mac), mac_len));
}

TEST_F(JwtTest, AcceptsExactlyHs256AndNoCriticalExtensions) {
  const std::string claims = R"({"sub":"a","tenant_id":"t1","role":"owner","exp":1800000600})";
  EXPECT_EQ(verifier_.Verify(SignWithHeader(R"({"alg":"HS256","typ":"JWT"})", claims)).subject,
            "a");
  EXPECT_THAT(Refusal(SignWithHeader(R"({"alg":"hs256","typ":"JWT"})", claims)),
              HasSubstr("HS256"));
  EXPECT_THAT(
      Refusal(SignWithHeader(R"({"alg":"HS256","typ":"JWT","crit":["exp2"],"exp2":1})", claims)),
      HasSubstr("critical"));
}

// Header and claims are parsed once, by one parser: a name given twice could otherwise mean one
// thing to the check and another to the use (RFC 7515 §4 allows refusing them; we do).
TEST_F(JwtTest, RefusesNamesGivenTwice) {
  const std::string claims = R"({"sub":"a","tenant_id":"t1","role":"owner","exp":1800000600})";
  Refusal(SignWithHeader(R"({"alg":"HS256","alg":"HS256"})", claims));
  Refusal(SignWithHeader(R"({"alg":"none","alg":"HS256"})", claims));
  Refusal(SignWithHeader(
      R"({"alg":"HS256"})",
      R"({"sub":"a","tenant_id":"t1","role":"member","exp":1800000600,"role":"operator"})"));
  Refusal(SignWithHeader(
      R"({"alg":"HS256"})",
      R"({"sub":"a","tenant_id":"t1","role":"owner","exp":1800000600,"act":{"sub":"x","sub":"y"}})"));
}

TEST_F(JwtTest, AcceptsJsonWhitespaceAndTypInAnyCase) {
  const Principal p =
      verifier_.Verify(SignWithHeader("{ \"typ\" : \"jwt\",\n \"alg\" : \"HS256\" }",
                                      "{\n  \"sub\": \"a\",\n  \"tenant_id\": \"t1\",\n  \"role\": "
                                      "\"owner\",\n  \"exp\": 1800000600\n}\n"));
  EXPECT_EQ(p.subject, "a");
  const std::string claims = R"({"sub":"a","tenant_id":"t1","role":"owner","exp":1800000600})";
  EXPECT_THAT(Refusal(SignWithHeader(R"({"alg":"HS256","typ":"JOSE+JSON"})", claims)),
              HasSubstr("JWT"));
  Refusal(SignWithHeader(R"({"alg":"HS256","typ":7})", claims));
}

TEST_F(JwtTest, RefusesSegmentsThatAreNotCanonicalBase64UrlOrNotObjects) {
  const std::string token = SignToken(kSecret, Owner(), kNow);
  const size_t dot1 = token.find('.');
  const size_t dot2 = token.find('.', dot1 + 1);
  const std::string claims = R"({"sub":"a","tenant_id":"t1","role":"owner","exp":1800000600})";
  // Standard base64's '+', '/' and '=' padding are not base64url.
  Refusal(token + "=");
  Refusal(token.substr(0, dot2 + 1) + "+" + token.substr(dot2 + 2));
  Refusal(token.substr(0, dot1) + "=" + token.substr(dot1));
  // The last character of a 32-byte signature carries 4 bits: its siblings decode to the same
  // bytes, but only the canonical spelling is the signature.
  std::string sibling = token;
  const char last = sibling.back();
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  sibling.back() = alphabet[alphabet.find(last) ^ 1];
  Refusal(sibling);
  // A header or claims that is valid JSON but no object, or no JSON at all.
  Refusal(SignWithHeader(R"(["alg","HS256"])", claims));
  Refusal(SignWithHeader(R"({"alg":"HS256"})", R"("sub")"));
  Refusal(SignWithHeader(R"({"alg":"HS256"})", R"({"sub":"a",)"));
  Refusal(SignWithHeader(R"({"alg":"HS256"})", claims + " x"));
  Refusal(SignWithHeader(R"({"alg":"HS256"})",
                         std::string(R"({"sub":"a","x":)") + std::string(40, '[') +
                             std::string(40, ']') +
                             R"(,"tenant_id":"t1","role":"owner","exp":1800000600})"));
}

TEST_F(JwtTest, RefusesTrailingGarbageAndExtraSegments) {
  const std::string token = SignToken(kSecret, Owner(), kNow);
  ASSERT_EQ(verifier_.Verify(token).subject, "ann@example.com");
  Refusal(token + ".");
  Refusal(token + ".x");
  Refusal(token + " ");
  Refusal(token + "A");
  Refusal(" " + token);
  Refusal(token.substr(0, token.size() - 1));
}

TEST_F(JwtTest, RefusesNulInIdentityClaims) {
  Refusal(SignWithHeader(R"({"alg":"HS256"})",
                         R"({"sub":"a\u0000b","tenant_id":"t1","role":"owner","exp":1800000600})"));
}

// One verifier serves every gRPC thread: its keyed HMAC state is copied per call, never shared
// while in use.
TEST_F(JwtTest, VerifiesFromManyThreadsAtOnce) {
  const std::string good = SignToken(kSecret, Owner(), kNow);
  const std::string forged = SignToken(std::string(40, 'x'), Owner(), kNow);
  constexpr size_t kThreads = 4;
  std::vector<std::thread> threads;
  std::vector<int> accepted(kThreads, 0), refused(kThreads, 0);
  for (size_t t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        if (verifier_.Verify(good).subject == "ann@example.com") ++accepted[t];
        try {
          verifier_.Verify(forged);
        } catch (const Error&) {
          ++refused[t];
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (size_t t = 0; t < kThreads; ++t) {
    EXPECT_EQ(accepted[t], 500);
    EXPECT_EQ(refused[t], 500);
  }
}

TEST_F(JwtTest, RefusesGarbage) {
  Refusal("");
  Refusal("not-a-jwt");
  Refusal("a.b.c");
  Refusal(std::string(10000, 'a'));
}

TEST_F(JwtTest, RefusesBadClaims) {
  EXPECT_THAT(Refusal(SignRaw(R"({"sub":"a","tenant_id":"t1","role":"king","exp":1800000600})",
                              JWT_ALG_HS256, kSecret)),
              HasSubstr("role"));
  EXPECT_THAT(Refusal(SignRaw(R"({"tenant_id":"t1","role":"owner","exp":1800000600})",
                              JWT_ALG_HS256, kSecret)),
              HasSubstr("sub"));
  EXPECT_THAT(
      Refusal(SignRaw(R"({"sub":"a","role":"owner","exp":1800000600})", JWT_ALG_HS256, kSecret)),
      HasSubstr("tenant_id"));
  EXPECT_THAT(Refusal(SignRaw(R"({"sub":"a","tenant_id":7,"role":"owner","exp":1800000600})",
                              JWT_ALG_HS256, kSecret)),
              HasSubstr("tenant_id"));
}

TEST_F(JwtTest, UserRolesMayNotSpanAllTenants) {
  for (const char* role : {"owner", "admin", "member"}) {
    EXPECT_THAT(Refusal(SignRaw(std::string(R"({"sub":"a","tenant_id":"*","role":")") + role +
                                    R"(","exp":1800000600})",
                                JWT_ALG_HS256, kSecret)),
                HasSubstr("'*'"))
        << role;
  }
}

TEST_F(JwtTest, CarriesSessionIdTokenIdPurposeAndIssuedAt) {
  const Principal plain = verifier_.Verify(SignToken(kSecret, Owner(), kNow));
  EXPECT_EQ(plain.session_id, "");
  EXPECT_EQ(plain.token_id, "");
  EXPECT_EQ(plain.purpose, "");
  EXPECT_EQ(plain.issued_at, kNow);

  Principal link = Owner();
  link.token_id = "3f1c9a";
  link.purpose = "login";
  const Principal p = verifier_.Verify(SignToken(kSecret, link, kNow - 10));
  EXPECT_EQ(p.token_id, "3f1c9a");
  EXPECT_EQ(p.purpose, "login");
  EXPECT_EQ(p.session_id, "");
  EXPECT_EQ(p.issued_at, kNow - 10);

  const Principal no_iat = verifier_.Verify(
      SignRaw(R"({"sub":"a","tenant_id":"t1","role":"owner","exp":1800000600,"sid":"s-1"})",
              JWT_ALG_HS256, kSecret));
  EXPECT_EQ(no_iat.session_id, "s-1");
  EXPECT_FALSE(no_iat.issued_at.has_value());
}

TEST_F(JwtTest, RefusesIdClaimsThatAreNotShortPrintableStrings) {
  for (const char* name : {"sid", "jti", "purpose"}) {
    for (const std::string& value : {std::string(R"("")"), std::string("7"),
                                     std::string(R"(["a"])"), "\"" + std::string(129, 'a') + "\"",
                                     std::string(R"("a\nb")"), std::string(R"("caf\u00e9")")}) {
      EXPECT_THAT(
          Refusal(SignRaw(R"({"sub":"a","tenant_id":"t1","role":"owner","exp":1800000600,")" +
                              std::string(name) + "\":" + value + "}",
                          JWT_ALG_HS256, kSecret)),
          HasSubstr(name))
          << name << " = " << value;
    }
  }
  const std::string longest = std::string(128, '~');
  EXPECT_EQ(verifier_
                .Verify(SignRaw(R"({"sub":"a","tenant_id":"t1","role":"owner","exp":1800000600,)"
                                R"("jti":")" +
                                    longest + "\"}",
                                JWT_ALG_HS256, kSecret))
                .token_id,
            longest);
}

TEST_F(JwtTest, ExpiryIsAnExpiredTokenError) {
  EXPECT_THROW(verifier_.Verify(SignToken(kSecret, Owner(kNow - 1), kNow - 100)), ExpiredToken);
  // A bad signature is not reported as expiry, even on an expired token.
  EXPECT_THROW(
      {
        try {
          verifier_.Verify(SignToken(std::string(40, 'x'), Owner(kNow - 1), kNow - 100));
        } catch (const ExpiredToken&) {
          ADD_FAILURE() << "a forged token was reported as expired";
        }
      },
      Error);
}

TEST_F(JwtTest, SessionTokensCarryTheirCsrfToken) {
  Principal session = Owner();
  session.session_id = "sess-abc";
  const std::string token = SignSessionToken(kSecret, session, kNow, "csrf-xyz");
  const Principal p = verifier_.Verify(token);
  EXPECT_EQ(p.session_id, "sess-abc");
  const size_t dot1 = token.find('.');
  const size_t dot2 = token.find('.', dot1 + 1);
  const auto payload = common::Base64UrlDecode(token.substr(dot1 + 1, dot2 - dot1 - 1));
  ASSERT_TRUE(payload);
  EXPECT_THAT(*payload, HasSubstr(R"("csrf":"csrf-xyz")"));
  EXPECT_THAT(*payload, Not(HasSubstr("purpose")));

  EXPECT_THROW(SignSessionToken(kSecret, Owner(), kNow, "csrf-xyz"), Error);  // no sid
  EXPECT_THROW(SignSessionToken(kSecret, session, kNow, ""), Error);
}

}  // namespace
}  // namespace paybell::auth

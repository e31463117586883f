// JwtVerifier::Verify (a scanner, server/auth/jwt_json.h) against the nlohmann::json DOM version
// it replaced (tests/support/jwt_reference.cc): for every token both return the same Principal,
// or both throw the same error (code, reason, and whether it is ExpiredToken). The tokens: the
// ones SignToken mints, hand-signed headers and claims probing each rule (repeated names also
// when escaped, nesting at and past the limit, numbers at the edges of double, byte order marks,
// NUL, bad UTF-8 and surrogates), and mutations of them (every truncation; every byte replaced,
// deleted or doubled, in the JSON and in the encoded token).
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <optional>
#include <string>
#include <vector>

#include "server/auth/jwt.h"
#include "server/common/clock.h"
#include "server/common/encoding.h"
#include "server/common/error.h"
#include "tests/support/jwt_reference.h"

namespace paybell::auth {
namespace {

const std::string kSecret = "0123456789abcdef0123456789abcdef-test-secret";
constexpr int64_t kNow = 1'800'000'000;

struct Outcome {
  std::optional<Principal> principal;
  common::ErrorCode code = common::ErrorCode::kInternal;
  std::string reason;
  bool expired = false;
};

template <typename Verify>
Outcome Observe(Verify&& verify) {
  Outcome outcome;
  try {
    outcome.principal = verify();
  } catch (const ExpiredToken& e) {
    outcome.code = e.code();
    outcome.reason = e.what();
    outcome.expired = true;
  } catch (const common::Error& e) {
    outcome.code = e.code();
    outcome.reason = e.what();
  }
  return outcome;
}

bool SamePrincipal(const Principal& a, const Principal& b) {
  return a.subject == b.subject && a.tenant_id == b.tenant_id && a.role == b.role &&
         a.expires_at == b.expires_at && a.actor == b.actor && a.session_id == b.session_id &&
         a.token_id == b.token_id && a.purpose == b.purpose && a.issued_at == b.issued_at;
}

std::string Printable(const std::string& text) {
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f) {
      out.push_back(c);
    } else {
      static const char kHex[] = "0123456789abcdef";
      out += "\\x";
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 15]);
    }
  }
  return out;
}

struct Tally {
  int accepted = 0;
  int refused = 0;
};

class JwtDifferentialTest : public ::testing::Test {
 protected:
  ::testing::AssertionResult Same(const std::string& token) {
    const Outcome expected =
        Observe([&] { return testing::VerifyJwtReference(token, kSecret, clock_); });
    const Outcome actual = Observe([&] { return verifier_.Verify(token); });
    if (expected.principal && actual.principal) {
      if (SamePrincipal(*expected.principal, *actual.principal)) {
        ++tally_.accepted;
        return ::testing::AssertionSuccess();
      }
      return ::testing::AssertionFailure() << "principals differ for " << Printable(token);
    }
    if (!expected.principal && !actual.principal && expected.code == actual.code &&
        expected.reason == actual.reason && expected.expired == actual.expired) {
      ++tally_.refused;
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure()
           << "reference: " << (expected.principal ? "accepted" : expected.reason)
           << "; scanner: " << (actual.principal ? "accepted" : actual.reason) << "; token "
           << Printable(token);
  }

  // Header and claims signed with kSecret as they are, for JSON no library would write.
  static std::string Sign(const std::string& header, const std::string& claims) {
    const std::string signing_input =
        common::Base64UrlEncode(header) + "." + common::Base64UrlEncode(claims);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    HMAC(EVP_sha256(), kSecret.data(), static_cast<int>(kSecret.size()),
         reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(), mac,
         &mac_len);
    return signing_input + "." +
           common::Base64UrlEncode(std::string(reinterpret_cast<char*>(mac), mac_len));
  }

  // `text` and its mutations: every truncation, every byte replaced by each of `bytes`,
  // deleted, or doubled.
  static std::vector<std::string> Mutations(const std::string& text, const std::string& bytes) {
    std::vector<std::string> out{text};
    for (size_t i = 0; i < text.size(); ++i) {
      out.push_back(text.substr(0, i));
      std::string deleted = text;
      deleted.erase(i, 1);
      out.push_back(deleted);
      std::string doubled = text;
      doubled.insert(i, 1, text[i]);
      out.push_back(doubled);
      for (const char b : bytes) {
        if (b == text[i]) continue;
        std::string replaced = text;
        replaced[i] = b;
        out.push_back(replaced);
      }
    }
    return out;
  }

  common::FakeClock clock_{kNow};
  JwtVerifier verifier_{kSecret, clock_};
  Tally tally_;
};

const std::string kJsonBytes =
    std::string("\"\\{}[],: 0159eE-+.tnu/\x01\x7f\x80\xc3\xa9\xed\xff") + std::string(1, '\0');

const std::string kHeader = R"({"alg":"HS256","typ":"JWT"})";
const std::string kClaims =
    R"({"sub":"a@b.c","tenant_id":"t1","role":"owner","exp":1800000600,"iat":1799999000,)"
    R"("sid":"s-1","jti":"j","act":{"sub":"op"},"x":[1,{"y":null}]})";

TEST_F(JwtDifferentialTest, TokensSignTokenMints) {
  Principal p{"ann@example.com", "t1", Role::kOwner, kNow + 600, ""};
  EXPECT_TRUE(Same(SignToken(kSecret, p, kNow)));
  p.actor = "dana (paybellctl)";
  EXPECT_TRUE(Same(SignToken(kSecret, p, kNow)));
  p.session_id = "sess-1";
  EXPECT_TRUE(Same(SignSessionToken(kSecret, p, kNow, "csrf")));
  p.token_id = "3f1c9a";
  p.purpose = "login";
  EXPECT_TRUE(Same(SignToken(kSecret, p, kNow - 10)));
  EXPECT_TRUE(Same(SignToken(kSecret, {"svc", "*", Role::kService, kNow + 5, ""}, kNow)));
  EXPECT_TRUE(Same(SignToken(kSecret, {"ops", "*", Role::kOperator, kNow, ""}, kNow)));  // expired
  EXPECT_TRUE(Same(SignToken(kSecret, {"m", "*", Role::kMember, kNow + 5, ""}, kNow)));
  EXPECT_TRUE(Same(SignToken("another-secret-another-secret", p, kNow)));
  EXPECT_EQ(tally_.accepted, 5);
}

TEST_F(JwtDifferentialTest, HandWrittenHeadersAndClaims) {
  const std::string claims = R"({"sub":"a","tenant_id":"t1","role":"owner","exp":1800000600})";
  const std::vector<std::string> headers = {
      kHeader,
      R"({"alg":"HS256"})",
      R"({"typ":"jwt","alg":"HS256"})",
      R"({"alg":"HS\u0032\u0035\u0036","t\u0079p":"J\u0057T"})",
      R"({"alg":"HS256","\u0061lg":"HS256"})",
      R"({"alg":"HS256","typ":null})",
      R"({"alg":"HS256","crit":null})",
      R"({"alg":"none"})",
      R"({"alg":["HS256"]})",
      R"({"alg":"HS256","x":{"a":1,"a":2}})",
      R"({"alg":"HS256","x":[{"a":1},{"a":2}]})",
      R"({"alg":"HS256","x":[{"a":1,"b":2,"a":3}]})",
      "\xef\xbb\xbf{\"alg\":\"HS256\"}",
      "\xef\xbb{\"alg\":\"HS256\"}",
      std::string("{\"alg\":\"HS256\"}\0garbage", 23),
      std::string("\0{\"alg\":\"HS256\"}", 16),
      " \t\r\n{\"alg\":\"HS256\"} \n",
      "{\"alg\":\"HS256\"} x",
  };
  for (const std::string& header : headers) {
    EXPECT_TRUE(Same(Sign(header, claims))) << Printable(header);
  }
  const std::vector<std::string> bodies = {
      claims,
      kClaims,
      R"({"sub":"a","tenant_id":"t1","role":"owner","exp":1800000600.9})",
      R"({"sub":"a","tenant_id":"t1","role":"owner","exp":18000006e2})",
      R"({"sub":"a","tenant_id":"t1","role":"owner","exp":1.8000006E9})",
      R"({"sub":"a","tenant_id":"t1","role":"owner","exp":1800000600,"nbf":-1e-400})",
      R"({"sub":"a","tenant_id":"t1","role":"owner","exp":1800000600,"nbf":-4e-320})",
      R"({"sub":"a","tenant_id":"t1","role":"owner","exp":1800000600,"nbf":-0})",
      R"({"sub":"a","tenant_id":"t1","role":"owner","exp":1800000600,"nbf":1e400})",
      R"({"sub":"a","tenant_id":"t1","role":"owner","exp":1800000600,"x":1.7976931348623157e308})",
      R"({"sub":"a","tenant_id":"t1","role":"owner","exp":1800000600,"x":1.7976931348623159e308})",
      R"({"sub":"a","tenant_id":"t1","role":"owner","exp":1800000600,"x":-1e309})",
      R"({"sub":"a","tenant_id":"t1","role":"owner","exp":18446744073709551616})",
      R"({"sub":"a","tenant_id":"t1","role":"owner","exp":00})",
      R"({"sub":"a","tenant_id":"t1","role":"owner","exp":"1800000600"})",
      R"({"sub":"a","tenant_id":"t1","role":"owner","exp":true})",
      R"({"sub":"a","tenant_id":"t1","role":"owner","exp":1800000600,"iat":null})",
      R"({"sub":"a","tenant_id":"t1","role":"owner","exp":1800000600,"iat":1e13})",
      R"({"sub":"a","tenant_id":"t1","role":"owner","exp":1800000600,"iat":9999999999999})",
      R"({"sub":"a\u0000","tenant_id":"t1","role":"owner","exp":1800000600})",
      R"({"sub":"\ud83d\ude00\u00e9\/\"\\\b\f\n\r\t","tenant_id":"t1","role":"owner","exp":1800000600})",
      "{\"sub\":\"\xf0\x9f\x98\x80 caf\xc3\xa9\",\"tenant_id\":\"t1\",\"role\":\"owner\","
      "\"exp\":1800000600}",
      "{\"sub\":\"\xed\xa0\x80\",\"tenant_id\":\"t1\",\"role\":\"owner\",\"exp\":1800000600}",
      "{\"sub\":\"\xc0\xaf\",\"tenant_id\":\"t1\",\"role\":\"owner\",\"exp\":1800000600}",
      R"({"sub":"\ud83d","tenant_id":"t1","role":"owner","exp":1800000600})",
      R"({"sub":"\ude00","tenant_id":"t1","role":"owner","exp":1800000600})",
      R"({"sub":"a","tenant_id":"t1","role":"\u006fwner","exp":1800000600})",
      R"({"sub":"a","tenant_id":"t1","role":"Owner","exp":1800000600})",
      R"({"sub":"a","tenant_id":"t1","role":"owner","exp":1800000600,"s\u0075b":"b"})",
      R"({"sub":"a","tenant_id":"t1","role":"owner","exp":1800000600,"\u00e9":1,"é":2})",
      R"({"sub":"a","tenant_id":"t1","role":"owner","exp":1800000600,"a\u0000":1,"a":2})",
      R"({"sub":"a","tenant_id":"*","role":"service","exp":1800000600,"jti":"\u007e"})",
      R"({"sub":"a","tenant_id":"*","role":"admin","exp":1800000600})",
      R"({"sub":"a","tenant_id":"t1","role":"owner","exp":1800000600,"sid":"\u001f"})",
      R"({"sub":"a","tenant_id":"t1","role":"owner","exp":1800000600,"purpose":"login"})",
      R"({"sub":"a","tenant_id":"t1","role":"owner","exp":1800000600,"act":{"sub":"a\u0000"}})",
      R"({"sub":"a","tenant_id":"t1","role":"owner","exp":1800000600,"act":{"x":{"sub":1}}})",
      R"({"sub":"a","tenant_id":"t1","role":"owner","exp":1800000600,"act":[{"sub":"a"}]})",
      R"({"sub":"a","tenant_id":"t1","role":"owner","exp":1800000600,"act":{"sub":"a","sub":"a"}})",
      R"({"sub":"a","tenant_id":"t1","role":"owner","exp":1800000600,"act":{"s\u0075b":"é"}})",
      R"({"sub":"a","tenant_id":"t1","role":"owner","exp":1800000600,"aud":["x"],"iss":"y"})",
      R"({"sub":"a","tenant_id":"t1","role":"owner","exp":1800000600,"a":{},"b":[],"c":""})",
  };
  for (const std::string& body : bodies) {
    EXPECT_TRUE(Same(Sign(kHeader, body))) << Printable(body);
  }
  // Names repeated across many members (sorted, not compared pairwise, past 16).
  std::string many = R"({"sub":"a","tenant_id":"t1","role":"owner","exp":1800000600)";
  for (int i = 0; i < 40; ++i) many += ",\"k" + std::to_string(i) + "\":" + std::to_string(i);
  EXPECT_TRUE(Same(Sign(kHeader, many + "}")));
  EXPECT_TRUE(Same(Sign(kHeader, many + ",\"k17\":0}")));
  EXPECT_TRUE(Same(Sign(kHeader, many + ",\"x\":{\"k17\":0}}")));
  EXPECT_GE(tally_.accepted, 15);
}

// The callback's depth counts the containers open around a name or value; 8 is the most.
TEST_F(JwtDifferentialTest, NestingAtAndPastTheLimit) {
  const std::string claims = R"({"sub":"a","tenant_id":"t1","role":"owner","exp":1800000600,"x":)";
  for (int levels = 5; levels <= 12; ++levels) {
    for (const std::string& inner : {std::string(""), std::string("1"), std::string("[]"),
                                     std::string("{}"), std::string("\"s\"")}) {
      std::string arrays = std::string(static_cast<size_t>(levels), '[') + inner +
                           std::string(static_cast<size_t>(levels), ']');
      EXPECT_TRUE(Same(Sign(kHeader, claims + arrays + "}"))) << levels << " " << inner;
      std::string objects;
      for (int i = 0; i < levels; ++i) objects += "{\"k\":";
      objects += inner.empty() ? "0" : inner;
      for (int i = 0; i < levels; ++i) objects += "}";
      EXPECT_TRUE(Same(Sign(kHeader, claims + objects + "}"))) << levels << " " << inner;
    }
  }
  EXPECT_GT(tally_.accepted, 10);
  EXPECT_GT(tally_.refused, 10);
}

TEST_F(JwtDifferentialTest, MutatedClaims) {
  for (const std::string& claims : Mutations(kClaims, kJsonBytes)) {
    ASSERT_TRUE(Same(Sign(kHeader, claims)));
  }
  EXPECT_GT(tally_.accepted, 100);
  EXPECT_GT(tally_.refused, 1000);
}

TEST_F(JwtDifferentialTest, MutatedHeaders) {
  const std::string claims = R"({"sub":"a","tenant_id":"t1","role":"owner","exp":1800000600})";
  for (const std::string& header :
       Mutations(R"({"alg":"HS256","typ":"JWT","x":[{"y":1}]})", kJsonBytes)) {
    ASSERT_TRUE(Same(Sign(header, claims)));
  }
  EXPECT_GT(tally_.accepted, 50);
  EXPECT_GT(tally_.refused, 500);
}

TEST_F(JwtDifferentialTest, MutatedEncodedTokens) {
  const std::string token =
      SignToken(kSecret, {"ann@example.com", "t1", Role::kOwner, kNow + 600, "dana"}, kNow);
  for (const std::string& mutated : Mutations(token, std::string("A_-+/=.\0 Q", 10))) {
    ASSERT_TRUE(Same(mutated));
  }
  EXPECT_GE(tally_.accepted, 1);
}

}  // namespace
}  // namespace paybell::auth

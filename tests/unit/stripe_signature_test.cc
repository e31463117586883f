#include "server/webhooks/stripe_signature.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace paybell::webhooks {
namespace {

using ::testing::HasSubstr;

const std::string kSecret = "whsec_test_secret_1";
const std::string kBody = R"({"id":"evt_1","object":"event","type":"invoice.paid","created":1})";
constexpr int64_t kNow = 1'800'000'000;

std::string V1(const std::string& secret, int64_t t, const std::string& body) {
  return ComputeStripeSignature(secret, t, body);
}

std::string Header(int64_t t, const std::string& v1) {
  return "t=" + std::to_string(t) + ",v1=" + v1;
}

SignatureCheck Verify(const std::string& header, const std::string& body = kBody,
                      const std::vector<std::string>& secrets = {kSecret}) {
  return VerifyStripeSignature(header, body, secrets, 300, kNow);
}

TEST(StripeSignatureTest, ComputesHmacSha256OfTimestampDotBody) {
  // Independently: printf '1.{}' | openssl dgst -sha256 -hmac whsec_x
  EXPECT_EQ(ComputeStripeSignature("whsec_x", 1, "{}"),
            "36ee2f7498f0c1777d1312b2a7361947fe5ad31223be30d0c62421f4ca753401");
}

TEST(StripeSignatureTest, Valid) { EXPECT_TRUE(Verify(Header(kNow, V1(kSecret, kNow, kBody))).ok); }

TEST(StripeSignatureTest, ValidPlusExtraBogusV1) {
  const std::string header = "t=" + std::to_string(kNow) + ",v1=" + std::string(64, 'a') +
                             ",v1=" + V1(kSecret, kNow, kBody);
  EXPECT_TRUE(Verify(header).ok);
}

TEST(StripeSignatureTest, OnlyV0IsRefused) {
  const auto check = Verify("t=" + std::to_string(kNow) + ",v0=" + V1(kSecret, kNow, kBody));
  EXPECT_FALSE(check.ok);
  EXPECT_THAT(check.reason, HasSubstr("no v1"));
}

TEST(StripeSignatureTest, V0BesideAValidV1IsIgnored) {
  EXPECT_TRUE(Verify(Header(kNow, V1(kSecret, kNow, kBody)) + ",v0=deadbeef").ok);
}

TEST(StripeSignatureTest, WrongSecret) {
  EXPECT_FALSE(Verify(Header(kNow, V1("whsec_other", kNow, kBody))).ok);
}

TEST(StripeSignatureTest, SecondSecretOfARotationList) {
  EXPECT_TRUE(
      Verify(Header(kNow, V1("whsec_new", kNow, kBody)), kBody, {"whsec_old", "whsec_new"}).ok);
}

TEST(StripeSignatureTest, Timestamp301SecondsOld) {
  const int64_t t = kNow - 301;
  const auto check = Verify(Header(t, V1(kSecret, t, kBody)));
  EXPECT_FALSE(check.ok);
  EXPECT_THAT(check.reason, HasSubstr("too old"));
  const int64_t edge = kNow - 300;
  EXPECT_TRUE(Verify(Header(edge, V1(kSecret, edge, kBody))).ok);
}

TEST(StripeSignatureTest, FutureTimestampBeyondTolerance) {
  const int64_t t = kNow + 301;
  const auto check = Verify(Header(t, V1(kSecret, t, kBody)));
  EXPECT_FALSE(check.ok);
  EXPECT_THAT(check.reason, HasSubstr("future"));
  const int64_t skewed = kNow + 30;  // ordinary clock skew passes
  EXPECT_TRUE(Verify(Header(skewed, V1(kSecret, skewed, kBody))).ok);
}

TEST(StripeSignatureTest, HeaderGarbage) {
  for (const char* header : {"garbage", "t=abc,v1=00", "t=,v1=", "v1=abcd", "t=1800000000", ",,,",
                             "t=1800000000,v1=zz"}) {
    EXPECT_FALSE(Verify(header).ok) << header;
  }
  EXPECT_FALSE(Verify(std::string(5000, 'x')).ok);
}

TEST(StripeSignatureTest, EmptyHeader) {
  const auto check = Verify("");
  EXPECT_FALSE(check.ok);
  EXPECT_THAT(check.reason, HasSubstr("missing"));
}

TEST(StripeSignatureTest, EmptyBodySignedIsStillVerifiedAsBytes) {
  EXPECT_TRUE(Verify(Header(kNow, V1(kSecret, kNow, "")), "").ok);
  EXPECT_FALSE(Verify(Header(kNow, V1(kSecret, kNow, kBody)), "").ok);
}

TEST(StripeSignatureTest, SignedNonJsonBodyPassesTheSignatureCheck) {
  // The signature covers bytes; whether they are an event is the parser's job (400 malformed).
  EXPECT_TRUE(Verify(Header(kNow, V1(kSecret, kNow, "not json")), "not json").ok);
}

TEST(StripeSignatureTest, BodyAlteredByOneByte) {
  std::string altered = kBody;
  altered[10] = altered[10] == 'x' ? 'y' : 'x';
  EXPECT_FALSE(Verify(Header(kNow, V1(kSecret, kNow, kBody)), altered).ok);
}

TEST(StripeSignatureTest, UppercaseHexIsNotStripes) {
  std::string upper = V1(kSecret, kNow, kBody);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_FALSE(Verify(Header(kNow, upper)).ok);
}

TEST(StripeSignatureTest, NoSecretConfigured) {
  EXPECT_FALSE(Verify(Header(kNow, V1(kSecret, kNow, kBody)), kBody, {}).ok);
}

}  // namespace
}  // namespace paybell::webhooks

#include "server/stripe/stripe_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <sstream>

#include "server/common/error.h"
#include "server/stripe/form_encoding.h"
#include "server/stripe/idempotency.h"
#include "server/stripe/key_redaction.h"
#include "server/stripe/stripe_errors.h"

namespace paybell::stripe {
namespace {

using common::ErrorCode;
using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::Not;

// Routes spdlog's default logger into a string while it lives.
class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(stream_);
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink));
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  std::string text() const { return stream_.str(); }

 private:
  std::ostringstream stream_;
  std::shared_ptr<spdlog::logger> previous_;
};

TEST(FormEncodingTest, NestedKeysKeepBracketsAndValuesAreEscaped) {
  EXPECT_EQ(
      FormEncode({{"line_items[0][price]", "price_1"},
                  {"subscription_data[metadata][tenant_id]", "acme & co"},
                  {"success_url", "https://x.test/b?checkout=success&id={CHECKOUT_SESSION_ID}"}}),
      "line_items[0][price]=price_1&subscription_data[metadata][tenant_id]=acme%20%26%20co"
      "&success_url=https%3A%2F%2Fx.test%2Fb%3Fcheckout%3Dsuccess%26id%3D%7BCHECKOUT_SESSION_ID%"
      "7D");
}

TEST(FormEncodingTest, EscapesEverythingButUnreserved) {
  EXPECT_EQ(PercentEncode("aZ09-_.~"), "aZ09-_.~");
  EXPECT_EQ(PercentEncode("a+b=c/d é[0]"), "a%2Bb%3Dc%2Fd%20%C3%A9%5B0%5D");
  EXPECT_EQ(PercentEncode("k[0]", true), "k[0]");
  EXPECT_EQ(FormEncode({}), "");
  EXPECT_EQ(FormEncode({{"a", ""}}), "a=");
}

TEST(StripeErrorsTest, InvalidRequestCarriesStripesMessage) {
  const auto e = ErrorFromStripeResponse(
      400,
      R"({"error":{"type":"invalid_request_error","message":"No such price: 'price_x'","param":"line_items[0][price]"}})");
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(e.what(), HasSubstr("No such price: 'price_x'"));
}

TEST(StripeErrorsTest, RejectedKeyNeverRepeatsIt) {
  const auto e = ErrorFromStripeResponse(
      401,
      R"({"error":{"type":"invalid_request_error","message":"Invalid API Key provided: sk_test_****abcd"}})");
  EXPECT_EQ(e.code(), ErrorCode::kFailedPrecondition);
  EXPECT_THAT(e.what(), HasSubstr("Stripe key rejected"));
  EXPECT_THAT(e.what(), Not(HasSubstr("sk_test")));
}

TEST(StripeErrorsTest, RestrictedKeyWithoutPermissionNeverRepeatsIt) {
  const auto e = ErrorFromStripeResponse(
      403,
      R"({"error":{"type":"invalid_request_error","message":"The provided key 'rk_test_51H*****abc' does not have the required permissions for this endpoint on account 'acct_1'."}})");
  EXPECT_EQ(e.code(), ErrorCode::kFailedPrecondition);
  EXPECT_THAT(e.what(), HasSubstr("STRIPE_SECRET_KEY"));
  EXPECT_THAT(e.what(), Not(HasSubstr("rk_test")));
  EXPECT_THAT(e.what(), Not(HasSubstr("51H")));
  EXPECT_THAT(e.what(), Not(HasSubstr("abc")));
}

TEST(StripeErrorsTest, RestrictedKeyDetailReachesTheLogWithTheKeyRedacted) {
  LogCapture log;
  ErrorFromStripeResponse(
      403,
      R"({"error":{"message":"The provided key 'rk_live_51H...abc' does not have the required permissions for this endpoint"}})");
  EXPECT_THAT(log.text(), HasSubstr("The provided key 'rk_live_…redacted' does not have the "
                                    "required permissions for this endpoint"));
  EXPECT_THAT(log.text(), Not(HasSubstr("51H")));
}

TEST(StripeErrorsTest, StatusClasses) {
  EXPECT_EQ(ErrorFromStripeResponse(429, "{}").code(), ErrorCode::kUnavailable);
  EXPECT_EQ(ErrorFromStripeResponse(503, "<html>").code(), ErrorCode::kUnavailable);
  EXPECT_EQ(
      ErrorFromStripeResponse(404, R"({"error":{"message":"No such customer: 'cus_1'"}})").code(),
      ErrorCode::kNotFound);
  EXPECT_EQ(ErrorFromStripeResponse(402, R"({"error":{"type":"card_error","message":"declined"}})")
                .code(),
            ErrorCode::kFailedPrecondition);
  EXPECT_EQ(ErrorFromStripeResponse(400, "not json").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ErrorFromStripeResponse(403, R"({"error":{"message":"permission"}})").code(),
            ErrorCode::kFailedPrecondition);
  EXPECT_EQ(ErrorFromStripeResponse(400, R"({"error":{"type":"idempotency_error","message":"x"}})")
                .code(),
            ErrorCode::kInternal);
  EXPECT_TRUE(IsRetryableStatus(409));
  EXPECT_TRUE(IsRetryableStatus(429));
  EXPECT_TRUE(IsRetryableStatus(500));
  EXPECT_FALSE(IsRetryableStatus(400));
  EXPECT_FALSE(IsRetryableStatus(402));
}

TEST(RedactStripeKeysTest, HidesEveryKeyShapeAndKeepsTheRest) {
  const struct {
    std::string in;
    std::string out;
  } kCases[] = {
      {"sk_test_51HabcDEF0123456789", "sk_test_…redacted"},
      {"Invalid API Key provided: sk_live_****abcd", "Invalid API Key provided: sk_live_…redacted"},
      {"The provided key 'rk_test_51H*****abc' does not have the required permissions",
       "The provided key 'rk_test_…redacted' does not have the required permissions"},
      {"key 'rk_live_51H...abc' refused", "key 'rk_live_…redacted' refused"},
      {"key 'pk_test_51H…abc' refused", "key 'pk_test_…redacted' refused"},
      {"ends a sentence: sk_test_abc. Next", "ends a sentence: sk_test_…redacted. Next"},
      {"two: sk_test_a1,rk_live_b2", "two: sk_test_…redacted,rk_live_…redacted"},
      {"No such customer: 'cus_123'; price_test_1; sk_other; pk_",
       "No such customer: 'cus_123'; price_test_1; sk_other; pk_"},
      {"", ""},
  };
  for (const auto& c : kCases) {
    EXPECT_EQ(RedactStripeKeys(c.in), c.out) << c.in;
  }
}

TEST(FullJitterBackoffTest, StaysBelowTheDoublingBoundAndNeverAboveTheCap) {
  constexpr milliseconds kBase{250};
  constexpr milliseconds kCap{4000};
  const struct {
    int retry;
    double unit;
    milliseconds expected;
  } kCases[] = {
      {0, 0.0, milliseconds(0)},
      {0, 0.999, milliseconds(249)},
      {1, 0.999, milliseconds(499)},
      {2, 0.5, milliseconds(500)},
      {3, 0.999, milliseconds(1998)},
      {4, 0.999, milliseconds(3996)},
      {5, 0.999, milliseconds(3996)},
      {1'000'000, 0.999, milliseconds(3996)},
      {std::numeric_limits<int>::max(), 1.0, kCap},
      {3, 7.0, milliseconds(2000)},  // a stray random source is held to the bound
      {3, -1.0, milliseconds(0)},
  };
  for (const auto& c : kCases) {
    EXPECT_EQ(FullJitterBackoff(c.retry, kBase, kCap, c.unit), c.expected)
        << "retry " << c.retry << " unit " << c.unit;
  }
}

TEST(FullJitterBackoffTest, ReplicasDrawSleepsSpreadOverTheWholeRange) {
  std::mt19937 generator(42);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::set<int64_t> distinct;
  int64_t low = 1000, high = 0;
  for (int i = 0; i < 1000; ++i) {
    const int64_t sleep =
        FullJitterBackoff(2, milliseconds(250), milliseconds(4000), unit(generator)).count();
    ASSERT_GE(sleep, 0);
    ASSERT_LE(sleep, 1000);
    distinct.insert(sleep);
    low = std::min(low, sleep);
    high = std::max(high, sleep);
  }
  // Not in lockstep: the sleeps cover the range instead of clustering at one value.
  EXPECT_LT(low, 50);
  EXPECT_GT(high, 950);
  EXPECT_GT(distinct.size(), 500u);
}

// How far `deadline` lies ahead of now, in milliseconds (negative when it has passed).
int64_t MillisecondsUntil(Deadline deadline) {
  return std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now())
      .count();
}

TEST(OperationDeadlineTest, CallerDeadlineLessTheMargin) {
  const auto caller = std::chrono::system_clock::now() + std::chrono::seconds(10);
  EXPECT_NEAR(MillisecondsUntil(OperationDeadline(caller, seconds(25), seconds(2))), 8000, 200);
}

TEST(OperationDeadlineTest, NeverLaterThanTheCap) {
  const auto caller = std::chrono::system_clock::now() + std::chrono::seconds(60);
  EXPECT_NEAR(MillisecondsUntil(OperationDeadline(caller, seconds(25), seconds(2))), 25000, 200);
}

TEST(OperationDeadlineTest, NoOrInfiniteCallerDeadlineGivesTheCap) {
  EXPECT_NEAR(MillisecondsUntil(OperationDeadline(std::nullopt, seconds(25), seconds(2))), 25000,
              200);
  // gRPC reports "no deadline" as system_clock's maximum.
  EXPECT_NEAR(MillisecondsUntil(OperationDeadline(std::chrono::system_clock::time_point::max(),
                                                  seconds(25), seconds(2))),
              25000, 200);
}

TEST(OperationDeadlineTest, CallerDeadlineWithinTheMarginHasPassedAlready) {
  const auto now = std::chrono::system_clock::now();
  EXPECT_LE(MillisecondsUntil(OperationDeadline(now + seconds(1), seconds(25), seconds(2))), 0);
  EXPECT_LE(MillisecondsUntil(OperationDeadline(now - seconds(5), seconds(25), seconds(2))), 0);
  EXPECT_LE(MillisecondsUntil(OperationDeadline(std::chrono::system_clock::time_point::min(),
                                                seconds(25), seconds(2))),
            0);
}

TEST(IdempotencyKeyTest, SameRequestSameWindowSameKey) {
  const auto a = DeriveIdempotencyKey("checkout", {"acme", "pro", "price_1"}, 1'800'000'000, 600);
  EXPECT_EQ(a, DeriveIdempotencyKey("checkout", {"acme", "pro", "price_1"}, 1'800'000'100, 600));
  EXPECT_THAT(a, ::testing::StartsWith("paybell-checkout-"));
  EXPECT_EQ(a.size(), std::string("paybell-checkout-").size() + 32);
}

TEST(IdempotencyKeyTest, AnyDifferenceGivesANewKey) {
  const auto base = DeriveIdempotencyKey("checkout", {"acme", "pro"}, 1'800'000'000, 600);
  EXPECT_NE(base, DeriveIdempotencyKey("checkout", {"acme", "firm"}, 1'800'000'000, 600));
  EXPECT_NE(base, DeriveIdempotencyKey("portal", {"acme", "pro"}, 1'800'000'000, 600));
  EXPECT_NE(base, DeriveIdempotencyKey("checkout", {"acme", "pro"}, 1'800'000'600, 600));
  // Length-prefixed parts: shifting a character between parts changes the key.
  EXPECT_NE(DeriveIdempotencyKey("c", {"ab", "c"}, 0, 600),
            DeriveIdempotencyKey("c", {"a", "bc"}, 0, 600));
}

}  // namespace
}  // namespace paybell::stripe

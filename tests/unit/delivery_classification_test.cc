// What the dispatcher does with each answer from a peer (retry, give up, flag the Slack URL),
// and when it tries again.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "server/notifications/backoff.h"
#include "server/notifications/classification.h"

namespace paybell::notifications {
namespace {

using Kind = DeliveryResult::Kind;
using std::chrono::seconds;
using ::testing::HasSubstr;

const auto kNow = std::chrono::system_clock::from_time_t(1445412480);  // Wed, 21 Oct 2015 07:28:00

TEST(SlackClassificationTest, EachStatusHasOneOutcome) {
  struct Case {
    long status;
    Kind kind;
    bool broken;
  };
  const Case cases[] = {
      {200, Kind::kSent, false},      {204, Kind::kSent, false},
      {429, Kind::kRetry, false},     {500, Kind::kRetry, false},
      {502, Kind::kRetry, false},     {503, Kind::kRetry, false},
      {504, Kind::kRetry, false},     {408, Kind::kRetry, false},
      {400, Kind::kPermanent, true},  {403, Kind::kPermanent, true},
      {404, Kind::kPermanent, true},  {410, Kind::kPermanent, true},
      {401, Kind::kPermanent, false}, {413, Kind::kPermanent, false},
      {302, Kind::kPermanent, false}, {301, Kind::kPermanent, false},
      {0, Kind::kRetry, false},
  };
  for (const auto& c : cases) {
    const DeliveryResult r = ClassifySlackResponse(c.status, std::nullopt);
    EXPECT_EQ(r.kind, c.kind) << c.status;
    EXPECT_EQ(r.slack_url_broken, c.broken) << c.status;
    if (c.kind != Kind::kSent) {
      EXPECT_THAT(r.error, HasSubstr("slack answered " + std::to_string(c.status)));
    }
  }
}

TEST(SlackClassificationTest, RateLimitCarriesRetryAfterOnlyFor429) {
  EXPECT_EQ(ClassifySlackResponse(429, seconds(7)).retry_after, seconds(7));
  EXPECT_EQ(ClassifySlackResponse(429, std::nullopt).retry_after, std::nullopt);
  EXPECT_EQ(ClassifySlackResponse(503, seconds(7)).retry_after, std::nullopt);
}

TEST(SlackClassificationTest, NetworkFailuresAreRetried) {
  const DeliveryResult r = SlackNetworkFailure("Timeout was reached");
  EXPECT_EQ(r.kind, Kind::kRetry);
  EXPECT_FALSE(r.slack_url_broken);
  EXPECT_EQ(r.error, "slack unreachable: Timeout was reached");
}

TEST(RetryAfterTest, ReadsSecondsAndHttpDatesAndCapsThem) {
  EXPECT_EQ(ParseRetryAfter("2", kNow), seconds(2));
  EXPECT_EQ(ParseRetryAfter(" 120 ", kNow), seconds(120));
  EXPECT_EQ(ParseRetryAfter("0", kNow), seconds(0));
  EXPECT_EQ(ParseRetryAfter("99999999999999999999999", kNow), kMaxRetryAfter);
  EXPECT_EQ(ParseRetryAfter("86400", kNow), kMaxRetryAfter);
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:29:30 GMT", kNow), seconds(90));
  EXPECT_EQ(ParseRetryAfter("Wednesday, 21-Oct-15 07:29:30 GMT", kNow), seconds(90));
  EXPECT_EQ(ParseRetryAfter("Wed Oct 21 07:29:30 2015", kNow), seconds(90));
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:00:00 GMT", kNow), seconds(0));  // past
  EXPECT_EQ(ParseRetryAfter("Fri, 21 Oct 2016 07:00:00 GMT", kNow), kMaxRetryAfter);
  EXPECT_EQ(ParseRetryAfter("", kNow), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("-5", kNow), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("soon", kNow), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("1.5", kNow), std::nullopt);
}

TEST(SmtpClassificationTest, FourHundredsRetryFiveHundredsAreDeadSilenceRetries) {
  EXPECT_EQ(ClassifySmtpResult(250, "").kind, Kind::kSent);
  const DeliveryResult greylisted = ClassifySmtpResult(451, "Failed sending data to the peer");
  EXPECT_EQ(greylisted.kind, Kind::kRetry);
  EXPECT_THAT(greylisted.error, HasSubstr("smtp server answered 451"));
  EXPECT_EQ(ClassifySmtpResult(421, "x").kind, Kind::kRetry);
  EXPECT_EQ(ClassifySmtpResult(452, "x").kind, Kind::kRetry);
  const DeliveryResult rejected = ClassifySmtpResult(550, "Failed sending data to the peer");
  EXPECT_EQ(rejected.kind, Kind::kPermanent);
  EXPECT_THAT(rejected.error, HasSubstr("smtp server answered 550"));
  EXPECT_EQ(ClassifySmtpResult(535, "Login denied").kind, Kind::kPermanent);
  EXPECT_EQ(ClassifySmtpResult(554, "x").kind, Kind::kPermanent);
  EXPECT_FALSE(ClassifySmtpResult(550, "x").slack_url_broken);
  // No reply, or a positive reply before the connection broke (TLS, timeout): retry.
  EXPECT_EQ(ClassifySmtpResult(0, "Couldn't connect to server").kind, Kind::kRetry);
  EXPECT_EQ(ClassifySmtpResult(220, "SSL peer certificate was not OK").kind, Kind::kRetry);
  EXPECT_EQ(ClassifySmtpResult(250, "Requested SSL level failed").kind, Kind::kRetry);
  EXPECT_EQ(ClassifySmtpResult(354, "Timeout was reached").kind, Kind::kRetry);
}

TEST(RetryDelayTest, StaysWithinTheDoublingBoundAndTheCap) {
  std::mt19937_64 random(42);
  for (int attempt = 1; attempt < kMaxDeliveryAttempts; ++attempt) {
    const seconds bound = std::min(kRetryCap, kRetryBase * (1 << (attempt - 1)));
    for (int i = 0; i < 2000; ++i) {
      const seconds d = RetryDelay(attempt, random);
      ASSERT_GE(d, seconds(1)) << "a failed delivery is never retried at once";
      ASSERT_LE(d, bound) << "attempt " << attempt;
    }
  }
  for (int attempt : {8, 12, 64, 1000}) {
    for (int i = 0; i < 200; ++i) ASSERT_LE(RetryDelay(attempt, random), kRetryCap);
  }
  EXPECT_LE(RetryDelay(0, random), kRetryBase);  // nonsense input stays bounded
}

TEST(RetryDelayTest, WaitsSpreadOverTheWholeRange) {
  // Replicas failing together must not come back together: after attempt 5 (bound 480 s) the
  // waits of 1000 rows fill every minute of the range.
  std::mt19937_64 random(7);
  std::set<long> minutes;
  seconds longest{0};
  for (int i = 0; i < 1000; ++i) {
    const seconds d = RetryDelay(5, random);
    minutes.insert(d.count() / 60);
    longest = std::max(longest, d);
  }
  EXPECT_EQ(minutes.size(), 8u);
  EXPECT_GT(longest, seconds(450));
}

TEST(RetryDelayTest, EightAttemptsGiveUpWithinAboutAnHour) {
  seconds worst{0};
  for (int attempt = 1; attempt < kMaxDeliveryAttempts; ++attempt) {
    worst += std::min(kRetryCap, kRetryBase * (1 << (attempt - 1)));
  }
  EXPECT_EQ(worst, seconds(3810));
}

}  // namespace
}  // namespace paybell::notifications

// The SSRF guard at send time: a tenant's Slack URL reaches only an allowed host, never an
// address inside the network unless the operator listed that exact host:port, and the address
// checked is the one connected to.
#include "server/notifications/slack_target.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

namespace paybell::notifications {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::vector<common::HostPort> kDefaultAllowed = {{"hooks.slack.com", std::nullopt}};
constexpr char kHook[] = "https://hooks.slack.com/services/T0001/B0001/secretsecret";

// A resolver that answers from a table and counts the questions.
struct FakeDns {
  std::map<std::string, std::vector<std::string>> answers;
  int questions = 0;
  HostResolver resolver() {
    return [this](const std::string& host, int) {
      ++questions;
      auto it = answers.find(host);
      return it == answers.end() ? std::vector<std::string>{} : it->second;
    };
  }
};

void ExpectRefused(const SlackTargetCheck& check, const std::string& url) {
  EXPECT_FALSE(check.target) << url;
  EXPECT_EQ(check.refusal.kind, DeliveryResult::Kind::kPermanent) << url;
  EXPECT_TRUE(check.refusal.slack_url_broken) << url;
  EXPECT_THAT(check.refusal.error, Not(HasSubstr("secretsecret")));
}

TEST(SlackTargetTest, AnAllowedPublicHostIsPinnedToTheAddressThatWasChecked) {
  FakeDns dns{{{"hooks.slack.com", {"34.1.2.3", "2600:1f18::1"}}}};
  const auto check = CheckSlackTarget(kHook, kDefaultAllowed, dns.resolver());
  ASSERT_TRUE(check.target) << check.refusal.error;
  EXPECT_EQ(check.target->url, kHook);
  EXPECT_EQ(check.target->host, "hooks.slack.com");
  EXPECT_EQ(check.target->port, 443);
  EXPECT_EQ(check.target->address, "34.1.2.3");
  EXPECT_EQ(check.target->resolve_entry, "hooks.slack.com:443:34.1.2.3");
}

TEST(SlackTargetTest, IPv6AnswersAreBracketedInTheResolveEntry) {
  FakeDns dns{{{"hooks.slack.com", {"2600:1f18::1"}}}};
  const auto check = CheckSlackTarget(kHook, kDefaultAllowed, dns.resolver());
  ASSERT_TRUE(check.target);
  EXPECT_EQ(check.target->resolve_entry, "hooks.slack.com:443:[2600:1f18::1]");
}

TEST(SlackTargetTest, HostCaseIsNormalisedSoThePinMatchesTheNameConnectedTo) {
  FakeDns dns{{{"hooks.slack.com", {"34.1.2.3"}}}};
  const auto check =
      CheckSlackTarget("https://HOOKS.Slack.COM/services/T/B/x", kDefaultAllowed, dns.resolver());
  ASSERT_TRUE(check.target) << check.refusal.error;
  EXPECT_EQ(check.target->url, "https://hooks.slack.com/services/T/B/x");
}

TEST(SlackTargetTest, OnlyHttpsAndNoUserinfo) {
  FakeDns dns{{{"hooks.slack.com", {"34.1.2.3"}}, {"evil.example", {"34.9.9.9"}}}};
  for (const std::string url : {
           "http://hooks.slack.com/services/T/B/secretsecret",
           "ftp://hooks.slack.com/services/T/B/secretsecret",
           "https://user@hooks.slack.com/services/T/B/secretsecret",
           "https://user:pw@hooks.slack.com/services/T/B/secretsecret",
           "https://hooks.slack.com@evil.example/services/T/B/secretsecret",
           "https://hooks.slack.com:443@evil.example/secretsecret",
           "https://evil.example#@hooks.slack.com/secretsecret",
           "https://evil.example\\@hooks.slack.com/secretsecret",
           "hooks.slack.com/services/T/B/secretsecret",
           "https:///secretsecret",
           "not a url secretsecret",
       }) {
    ExpectRefused(CheckSlackTarget(url, kDefaultAllowed, dns.resolver()), url);
  }
  EXPECT_EQ(dns.questions, 0) << "a refused URL must not even be resolved";
}

TEST(SlackTargetTest, HostsAndPortsMustBeListed) {
  FakeDns dns{{{"hooks.slack.com", {"34.1.2.3"}},
               {"hooks.slack.com.evil.example", {"34.9.9.9"}},
               {"evilhooks.slack.com", {"34.9.9.9"}}}};
  for (const std::string url :
       {"https://hooks.slack.com.evil.example/s/secretsecret",
        "https://evilhooks.slack.com/s/secretsecret", "https://34.1.2.3/s/secretsecret"}) {
    ExpectRefused(CheckSlackTarget(url, kDefaultAllowed, dns.resolver()), url);
  }
  // A listed port is the only port.
  const std::vector<common::HostPort> with_port = {{"hooks.slack.com", 8443}};
  ExpectRefused(CheckSlackTarget(kHook, with_port, dns.resolver()), kHook);
  EXPECT_TRUE(
      CheckSlackTarget("https://hooks.slack.com:8443/s/x", with_port, dns.resolver()).target);
  // Without a port, any port of the host.
  EXPECT_TRUE(
      CheckSlackTarget("https://hooks.slack.com:8443/s/x", kDefaultAllowed, dns.resolver()).target);
}

TEST(SlackTargetTest, InternalAddressesAreRefusedUnlessThatHostPortIsListedExactly) {
  const std::vector<std::string> internal = {
      "127.0.0.1",
      "127.255.0.9",
      "10.0.0.5",
      "10.255.255.255",
      "172.16.0.1",
      "172.31.255.255",
      "192.168.1.1",
      "169.254.169.254",
      "100.64.0.1",
      "0.0.0.0",
      "224.0.0.1",
      "255.255.255.255",
      "::1",
      "::",
      "fd00::1",
      "fc00::1",
      "fe80::1",
      "febf::1",
      "ff02::1",
      "::ffff:10.0.0.1",
      "::ffff:127.0.0.1",
      "64:ff9b::a00:1",
      "2002:a00:1::1",
      "::127.0.0.1",
  };
  for (const auto& address : internal) {
    FakeDns dns{{{"hooks.slack.com", {address}}}};
    ExpectRefused(CheckSlackTarget(kHook, kDefaultAllowed, dns.resolver()), address);
    // Listed as a host (any port) is not enough; listed with its exact port is.
    const std::vector<common::HostPort> exact = {{"hooks.slack.com", 443}};
    EXPECT_TRUE(CheckSlackTarget(kHook, exact, dns.resolver()).target) << address;
  }
  for (const std::string public_address :
       {"172.15.255.255", "172.32.0.1", "192.169.0.1", "100.128.0.1", "11.0.0.1", "2600:1f18::1",
        "::ffff:34.1.2.3"}) {
    FakeDns dns{{{"hooks.slack.com", {public_address}}}};
    EXPECT_TRUE(CheckSlackTarget(kHook, kDefaultAllowed, dns.resolver()).target) << public_address;
  }
}

TEST(SlackTargetTest, OneInternalAnswerAmongPublicOnesRefusesTheHost) {
  FakeDns dns{{{"hooks.slack.com", {"34.1.2.3", "10.0.0.7"}}}};
  ExpectRefused(CheckSlackTarget(kHook, kDefaultAllowed, dns.resolver()), "mixed");
}

TEST(SlackTargetTest, LiteralAddressesAreCheckedWithoutResolving) {
  FakeDns dns;
  const std::vector<common::HostPort> loopback_any_port = {{"127.0.0.1", std::nullopt}};
  ExpectRefused(
      CheckSlackTarget("https://127.0.0.1:8443/s/secretsecret", loopback_any_port, dns.resolver()),
      "loopback without its port");
  const std::vector<common::HostPort> stand_in = {{"127.0.0.1", 8443}, {"::1", 9443}};
  const auto v4 = CheckSlackTarget("https://127.0.0.1:8443/s/x", stand_in, dns.resolver());
  ASSERT_TRUE(v4.target);
  EXPECT_EQ(v4.target->address, "127.0.0.1");
  EXPECT_EQ(v4.target->resolve_entry, "");
  const auto v6 = CheckSlackTarget("https://[::1]:9443/s/x", stand_in, dns.resolver());
  ASSERT_TRUE(v6.target) << v6.refusal.error;
  EXPECT_EQ(v6.target->host, "::1");
  EXPECT_EQ(dns.questions, 0);
  ExpectRefused(
      CheckSlackTarget("https://[fe80::1%25eth0]:9443/s/x", {{"fe80::1", 9443}}, dns.resolver()),
      "zone id");
}

TEST(SlackTargetTest, AHostThatDoesNotResolveIsRetriedNotFlagged) {
  FakeDns dns;
  const auto check = CheckSlackTarget(kHook, kDefaultAllowed, dns.resolver());
  EXPECT_FALSE(check.target);
  EXPECT_EQ(check.refusal.kind, DeliveryResult::Kind::kRetry);
  EXPECT_FALSE(check.refusal.slack_url_broken);
}

}  // namespace
}  // namespace paybell::notifications

#include "server/notifications/slack_url.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "server/common/error.h"

namespace paybell::notifications {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

const std::vector<common::HostPort> kSlackOnly = {{"hooks.slack.com", std::nullopt}};
// As the e2e tests configure it: Slack, plus local stand-ins listed with their ports.
const std::vector<common::HostPort> kWithStandIns = {{"hooks.slack.com", std::nullopt},
                                                     {"127.0.0.1", 9443},
                                                     {"::1", 8443},
                                                     {"localhost", 7443},
                                                     {"10.1.2.3", std::nullopt},
                                                     {"hooks.internal", 443},
                                                     {"169.254.169.254", std::nullopt},
                                                     {"hooks.example", std::nullopt}};

// The error CheckSlackWebhookUrl throws, or "" when it accepts the URL.
std::string ErrorOf(const std::string& url,
                    const std::vector<common::HostPort>& allowed = kWithStandIns) {
  try {
    CheckSlackWebhookUrl(url, allowed);
    return "";
  } catch (const common::Error& e) {
    EXPECT_EQ(e.code(), common::ErrorCode::kInvalidArgument);
    EXPECT_THAT(std::string(e.what()), StartsWith("slack_webhook_url ")) << url;
    EXPECT_THAT(std::string(e.what()), ::testing::Not(HasSubstr("secret"))) << url;
    return e.what();
  }
}

TEST(SlackUrlTest, SlackUrlIsAcceptedAndNormalised) {
  const auto target =
      CheckSlackWebhookUrl("HTTPS://Hooks.Slack.COM/services/T0/B0/SeCrEt", kSlackOnly);
  EXPECT_EQ(target.url, "https://hooks.slack.com/services/T0/B0/SeCrEt");
  EXPECT_EQ(target.host, "hooks.slack.com");
  EXPECT_EQ(target.port, 443);
  EXPECT_FALSE(target.host_is_ip_literal);
  EXPECT_EQ(ErrorOf("https://hooks.slack.com:443/services/T0/B0/secret", kSlackOnly), "");
  EXPECT_EQ(ErrorOf("https://hooks.slack.com:8443/services/T0/B0/secret", kSlackOnly), "");
}

TEST(SlackUrlTest, OnlyHttps) {
  EXPECT_THAT(ErrorOf("http://hooks.slack.com/services/T0/B0/secret"), HasSubstr("https"));
  EXPECT_THAT(ErrorOf("ftp://hooks.slack.com/x"), HasSubstr("https"));
  EXPECT_THAT(ErrorOf("//hooks.slack.com/x"), HasSubstr("https"));
  EXPECT_THAT(ErrorOf("hooks.slack.com/services/T0/B0/secret"), HasSubstr("https"));
  EXPECT_THAT(ErrorOf("https:hooks.slack.com/x"), HasSubstr("https"));
}

TEST(SlackUrlTest, HostMustBeListed) {
  EXPECT_THAT(ErrorOf("https://hooks.slack.com.evil.example/services/x"),
              HasSubstr("SLACK_ALLOWED_HOSTS (hooks.slack.com, 127.0.0.1:9443"));
  EXPECT_NE(ErrorOf("https://evilhooks.slack.com/x"), "");
  EXPECT_NE(ErrorOf("https://slack.com/x"), "");
  // A listed port allows only that port (443 when the URL names none).
  EXPECT_EQ(ErrorOf("https://hooks.internal/x"), "");
  EXPECT_EQ(ErrorOf("https://hooks.internal:443/x"), "");
  EXPECT_NE(ErrorOf("https://hooks.internal:8443/x"), "");
}

TEST(SlackUrlTest, UserinfoTricksAreRefused) {
  for (const char* url :
       {"https://user@hooks.slack.com/services/x", "https://user:pass@hooks.slack.com/services/x",
        "https://hooks.slack.com@evil.example/services/x",
        "https://hooks.slack.com:443@127.0.0.1:9443/x", "https://@hooks.slack.com/x",
        "https://evil.example%40hooks.slack.com/x"}) {
    EXPECT_THAT(ErrorOf(url), ::testing::AnyOf(HasSubstr("user info"), HasSubstr("percent")))
        << url;
  }
}

TEST(SlackUrlTest, BackslashesFragmentsSpacesAndEncodingTricksAreRefused) {
  EXPECT_THAT(ErrorOf("https://evil.example\\@hooks.slack.com/x"), HasSubstr("backslash"));
  EXPECT_THAT(ErrorOf("https://hooks.slack.com\\.evil.example/x"), HasSubstr("backslash"));
  EXPECT_THAT(ErrorOf("https://evil.example#@hooks.slack.com/x"), HasSubstr("fragment"));
  EXPECT_THAT(ErrorOf("https://hooks.slack.com/services/x y"), HasSubstr("printable"));
  EXPECT_THAT(ErrorOf("https://hooks.slack.com/x\r\nHost: evil"), HasSubstr("printable"));
  EXPECT_THAT(ErrorOf(std::string("https://hooks.slack.com/x\0y", 27)), HasSubstr("printable"));
  EXPECT_THAT(ErrorOf("https://hooks.slack.c\xc3\xb6m/x"), HasSubstr("printable"));
  EXPECT_THAT(ErrorOf("https://hooks%2eslack.com/x"), HasSubstr("percent"));
  EXPECT_THAT(ErrorOf("https://hooks.slack.com./services/x"), HasSubstr("trailing dot"));
  EXPECT_THAT(ErrorOf("https://127.0.0.1.:9443/x"), HasSubstr("trailing dot"));
  EXPECT_THAT(ErrorOf("https://hooks..slack.com/x"), HasSubstr("empty labels"));
  EXPECT_THAT(ErrorOf("https://hooks_slack.com/x"), HasSubstr("DNS name"));
  EXPECT_THAT(ErrorOf("https:///services/x"), HasSubstr("host"));
  EXPECT_THAT(ErrorOf("https://hooks.slack.com:/x"), HasSubstr("port"));
  EXPECT_THAT(ErrorOf("https://hooks.slack.com:0/x"), HasSubstr("port"));
  EXPECT_THAT(ErrorOf("https://hooks.slack.com:65536/x"), HasSubstr("port"));
  EXPECT_THAT(ErrorOf("https://hooks.slack.com:44a/x"), HasSubstr("port"));
  EXPECT_THAT(ErrorOf("https://" + std::string(2048, 'a')), HasSubstr("2048"));
}

TEST(SlackUrlTest, NumericIpv4SpellingsAreRefused) {
  const std::vector<common::HostPort> any_port = {{"2130706433", std::nullopt},
                                                  {"127.0.0.1", std::nullopt}};
  for (const char* url :
       {"https://2130706433/x", "https://0x7f000001/x", "https://0x7f.1/x", "https://0177.0.0.1/x",
        "https://127.1/x", "https://127.0.1/x", "https://017700000001/x", "https://1.2.3.04/x"}) {
    EXPECT_THAT(ErrorOf(url, any_port), HasSubstr("dotted-quad")) << url;
  }
}

TEST(SlackUrlTest, RestrictedAddressesOnlyWhenTheExactHostPortIsListed) {
  EXPECT_EQ(ErrorOf("https://127.0.0.1:9443/services/T0/B0/x"), "");
  EXPECT_THAT(ErrorOf("https://127.0.0.1:9444/x"), HasSubstr("SLACK_ALLOWED_HOSTS"));
  EXPECT_THAT(ErrorOf("https://127.0.0.1/x"), HasSubstr("SLACK_ALLOWED_HOSTS"));
  EXPECT_EQ(ErrorOf("https://[::1]:8443/x"), "");
  EXPECT_EQ(ErrorOf("https://[0:0:0:0:0:0:0:1]:8443/x"), "");
  EXPECT_NE(ErrorOf("https://[::1]:8444/x"), "");
  EXPECT_EQ(ErrorOf("https://localhost:7443/x"), "");
  EXPECT_THAT(ErrorOf("https://LOCALHOST:7443/x"), "");
  EXPECT_NE(ErrorOf("https://localhost/x"), "");
  // Listed without a port: a private or link-local address still needs its exact port.
  EXPECT_THAT(ErrorOf("https://10.1.2.3/x"), HasSubstr("loopback, private or link-local"));
  EXPECT_THAT(ErrorOf("https://10.1.2.3:443/x"), HasSubstr("loopback, private or link-local"));
  EXPECT_THAT(ErrorOf("https://169.254.169.254/latest/meta-data"),
              HasSubstr("loopback, private or link-local"));
}

TEST(SlackUrlTest, PrivateRangeMatrix) {
  auto listed_any_port = [](const std::string& host) {
    return std::vector<common::HostPort>{{host, std::nullopt}};
  };
  auto listed_exactly = [](const std::string& host) {
    return std::vector<common::HostPort>{{host, 443}};
  };
  const std::pair<const char*, bool> hosts[] = {
      {"127.0.0.1", true},     {"10.0.0.1", true},         {"10.255.255.255", true},
      {"172.16.0.1", true},    {"172.31.255.255", true},   {"172.15.255.255", false},
      {"172.32.0.1", false},   {"192.168.1.1", true},      {"169.254.1.1", true},
      {"100.64.0.1", true},    {"0.0.0.0", true},          {"8.8.8.8", false},
      {"fd00::1", true},       {"fc00::1", true},          {"fe80::1", true},
      {"::1", true},           {"::ffff:127.0.0.1", true}, {"::ffff:10.0.0.1", true},
      {"2606:4700::1", false},
  };
  for (const auto& [host, restricted] : hosts) {
    const std::string h(host);
    const std::string url =
        "https://" + (h.find(':') != std::string::npos ? "[" + h + "]" : h) + "/x";
    EXPECT_EQ(ErrorOf(url, listed_any_port(h)).empty(), !restricted) << url;
    EXPECT_EQ(ErrorOf(url, listed_exactly(h)), "") << url;
  }
}

TEST(SlackUrlTest, Ipv6LiteralsAreCheckedAndCanonical) {
  const std::vector<common::HostPort> allowed = {{"2606:4700::1", std::nullopt}, {"fe80::1", 443}};
  const auto target = CheckSlackWebhookUrl("https://[2606:4700:0::0001]/x", allowed);
  EXPECT_EQ(target.url, "https://[2606:4700::1]/x");
  EXPECT_TRUE(target.host_is_ip_literal);
  EXPECT_THAT(ErrorOf("https://[fe80::1%25eth0]/x", allowed), HasSubstr("percent"));
  EXPECT_THAT(ErrorOf("https://[fe80::1/x", allowed), HasSubstr("bracket"));
  EXPECT_THAT(ErrorOf("https://[nothex::1]/x", allowed), HasSubstr("IPv6"));
  EXPECT_THAT(ErrorOf("https://[2606:4700::1]x/x", allowed), HasSubstr("after the IPv6"));
  EXPECT_EQ(ErrorOf("https://[fe80::1]/x", allowed), "");
}

TEST(SlackUrlTest, MayConnectToChecksTheResolvedAddress) {
  EXPECT_TRUE(MayConnectTo(kWithStandIns, "hooks.slack.com", 443, "3.120.1.2"));
  EXPECT_FALSE(MayConnectTo(kWithStandIns, "hooks.slack.com", 443, "127.0.0.1"));
  EXPECT_FALSE(MayConnectTo(kWithStandIns, "hooks.example", 443, "10.0.0.5"));
  EXPECT_FALSE(MayConnectTo(kWithStandIns, "hooks.slack.com", 443, "::ffff:192.168.0.1"));
  EXPECT_TRUE(MayConnectTo(kWithStandIns, "localhost", 7443, "127.0.0.1"));
  EXPECT_TRUE(MayConnectTo(kWithStandIns, "localhost", 7443, "::1"));
  EXPECT_FALSE(MayConnectTo(kWithStandIns, "localhost", 7444, "127.0.0.1"));
  EXPECT_TRUE(MayConnectTo(kWithStandIns, "127.0.0.1", 9443, "127.0.0.1"));
  EXPECT_FALSE(MayConnectTo(kWithStandIns, "hooks.slack.com", 443, "not-an-ip"));
}

TEST(SlackUrlTest, MaskShowsNoPartOfTheSecretPath) {
  EXPECT_EQ(MaskSlackUrl(""), "");
  EXPECT_EQ(MaskSlackUrl("https://hooks.slack.com/services/T0123ABC/B0456DEF/abcdEFGH1234"),
            "https://hooks.slack.com/services/T\u2026/\u2026/****");
  EXPECT_EQ(MaskSlackUrl("https://127.0.0.1:9443/services/T0/B0/secret-token"),
            "https://127.0.0.1:9443/services/T\u2026/\u2026/****");
  EXPECT_EQ(MaskSlackUrl("https://hooks.example/secret-token/x"),
            "https://hooks.example/\u2026/****");
  EXPECT_EQ(MaskSlackUrl("https://hooks.example"), "https://hooks.example/\u2026/****");
  EXPECT_EQ(MaskSlackUrl("https://[::1]:8443/services/T1/B1/zzz"),
            "https://[::1]:8443/services/T\u2026/\u2026/****");
  for (const char* url : {"https://hooks.slack.com/services/T0123ABC/B0456DEF/abcdEFGH1234",
                          "https://hooks.example/secret-token/x"}) {
    const std::string masked = MaskSlackUrl(url);
    EXPECT_EQ(masked.find("0123"), std::string::npos);
    EXPECT_EQ(masked.find("B0456"), std::string::npos);
    EXPECT_EQ(masked.find("1234"), std::string::npos);
    EXPECT_EQ(masked.find("secret"), std::string::npos);
    // A mask is never itself an acceptable URL, so an update carrying it cannot be mistaken
    // for a new one.
    EXPECT_NE(ErrorOf(masked), "");
  }
}

}  // namespace
}  // namespace paybell::notifications

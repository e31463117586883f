#include "server/common/url.h"

#include <gtest/gtest.h>

#include <cctype>
#include <ostream>
#include <string>

namespace paybell::common {
namespace {

TEST(UrlTest, ParsesEveryPart) {
  auto url = ParseUrl("HTTPS://user:pw@[::1]:8443/a%20b?x=1&y=%2F");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->scheme, "https");
  EXPECT_EQ(url->user, "user");
  EXPECT_EQ(url->password, "pw");
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, 8443);
  EXPECT_EQ(url->path, "/a b");
  ASSERT_EQ(url->query.size(), 2u);
  EXPECT_EQ(url->query[1].second, "/");
}

TEST(UrlTest, RejectsMalformed) {
  EXPECT_FALSE(ParseUrl("no-scheme"));
  EXPECT_FALSE(ParseUrl("http://host:"));
  EXPECT_FALSE(ParseUrl("http://host/a b"));
  EXPECT_FALSE(ParseUrl("http://[::1"));
  EXPECT_FALSE(PercentDecode("%4"));
  EXPECT_EQ(PercentDecode("%41%62"), "Ab");
}

struct LoopbackCase {
  std::string host;
  bool loopback;
};

void PrintTo(const LoopbackCase& c, std::ostream* os) { *os << '"' << c.host << '"'; }

// The guard that keeps the Stripe key (and Slack webhook URLs) off plaintext http trusts only
// hosts that cannot leave the machine: a name that merely looks local must not pass.
class LoopbackHostTest : public ::testing::TestWithParam<LoopbackCase> {};

TEST_P(LoopbackHostTest, AcceptsOnlyAddressesThatStayOnThisMachine) {
  EXPECT_EQ(IsLoopbackHost(GetParam().host), GetParam().loopback) << GetParam().host;
}

INSTANTIATE_TEST_SUITE_P(
    Hosts, LoopbackHostTest,
    ::testing::Values(LoopbackCase{"localhost", true}, LoopbackCase{"LocalHost", true},
                      LoopbackCase{"127.0.0.1", true}, LoopbackCase{"127.255.254.3", true},
                      LoopbackCase{"::1", true}, LoopbackCase{"[::1]", true},
                      LoopbackCase{"0:0:0:0:0:0:0:1", true}, LoopbackCase{"::ffff:127.0.0.1", true},
                      // Names that only start like a loopback address resolve wherever DNS says.
                      LoopbackCase{"127.evil.example", false},
                      LoopbackCase{"127.0.0.1.nip.io", false},
                      LoopbackCase{"localhost.evil.com", false},
                      LoopbackCase{"evil-localhost", false},
                      // "localhost." goes to the resolver's search rules rather than /etc/hosts
                      // everywhere: refused, like every spelling that is not canonical.
                      LoopbackCase{"localhost.", false}, LoopbackCase{"127.1", false},
                      LoopbackCase{"0x7f.0.0.1", false}, LoopbackCase{"127.0.0.01", false},
                      LoopbackCase{"127.0.0.1 ", false}, LoopbackCase{"::1%lo", false},
                      LoopbackCase{"::ffff:10.0.0.1", false}, LoopbackCase{"::2", false},
                      LoopbackCase{"128.0.0.1", false}, LoopbackCase{"10.0.0.1", false},
                      LoopbackCase{"0.0.0.0", false}, LoopbackCase{"api.stripe.com", false},
                      LoopbackCase{"", false}),
    [](const ::testing::TestParamInfo<LoopbackCase>& param_info) {
      std::string name = std::to_string(param_info.index) + "_";
      for (char c : param_info.param.host)
        name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
      return name;
    });

}  // namespace
}  // namespace paybell::common

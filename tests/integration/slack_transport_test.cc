// SlackWebhookTransport against a local HTTPS stand-in (throwaway CA, its host:port listed in
// SLACK_ALLOWED_HOSTS): the JSON arrives as posted; 429, 5xx, 404 and redirects are classified
// as the dispatcher needs; hosts not allowed are never contacted; the address checked is the
// address connected to.
#include "server/notifications/slack_transport.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <thread>

#include "tests/support/peers.h"

namespace paybell::notifications {
namespace {

using paybell::testing::SlackStandIn;
using paybell::testing::TestPki;
using ::testing::HasSubstr;
using ::testing::Not;
using Kind = DeliveryResult::Kind;

constexpr char kPath[] = "/services/T0001/B0001/webhooksecret";
constexpr char kJson[] = R"({"text":"PSI drift on model-a: 0.31","blocks":[]})";

class SlackTransportTest : public ::testing::Test {
 protected:
  SlackTransportOptions Options(std::vector<common::HostPort> allowed) const {
    SlackTransportOptions options;
    options.allowed_hosts = std::move(allowed);
    options.ca_file = pki_.ca_file;
    return options;
  }
  // The stand-in listed exactly, as tests list it in SLACK_ALLOWED_HOSTS.
  SlackTransportOptions Listed(const SlackStandIn& stand_in) const {
    return Options({{"127.0.0.1", stand_in.port()}});
  }
  void ExpectNoSecret(const DeliveryResult& result) {
    EXPECT_THAT(result.error, Not(HasSubstr("webhooksecret")));
    EXPECT_THAT(result.error, Not(HasSubstr("/services/")));
  }

  TestPki pki_;
};

TEST_F(SlackTransportTest, PostsTheJsonAndCountsA200AsSent) {
  SlackStandIn stand_in(pki_, {"200"});
  SlackWebhookTransport transport(Listed(stand_in));
  const DeliveryResult result = transport.Post(stand_in.Url(kPath), kJson);
  ASSERT_EQ(result.kind, Kind::kSent) << result.error;
  const auto requests = stand_in.WaitForRequests(1);
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0]["method"], "POST");
  EXPECT_EQ(requests[0]["path"], kPath);
  EXPECT_EQ(requests[0]["headers"]["content-type"], "application/json");
  EXPECT_EQ(requests[0]["body"], kJson);
}

TEST_F(SlackTransportTest, RateLimitedIsRetriedAfterRetryAfter) {
  SlackStandIn stand_in(pki_, {"429 2", "429 Wed, 21 Oct 2015 07:28:00 GMT"});
  SlackWebhookTransport transport(Listed(stand_in));
  const DeliveryResult seconds = transport.Post(stand_in.Url(kPath), kJson);
  EXPECT_EQ(seconds.kind, Kind::kRetry);
  EXPECT_EQ(seconds.retry_after, std::chrono::seconds(2));
  EXPECT_FALSE(seconds.slack_url_broken);
  EXPECT_THAT(seconds.error, HasSubstr("slack answered 429"));
  ExpectNoSecret(seconds);
  const DeliveryResult past_date = transport.Post(stand_in.Url(kPath), kJson);
  EXPECT_EQ(past_date.kind, Kind::kRetry);
  EXPECT_EQ(past_date.retry_after, std::chrono::seconds(0));
}

TEST_F(SlackTransportTest, ServerErrorsAreRetried) {
  SlackStandIn stand_in(pki_, {"500", "503"});
  SlackWebhookTransport transport(Listed(stand_in));
  for (const char* status : {"500", "503"}) {
    const DeliveryResult result = transport.Post(stand_in.Url(kPath), kJson);
    EXPECT_EQ(result.kind, Kind::kRetry) << status;
    EXPECT_EQ(result.error, std::string("slack answered ") + status);
    EXPECT_FALSE(result.retry_after);
  }
}

TEST_F(SlackTransportTest, AGoneWebhookIsPermanentAndFlagsTheUrl) {
  SlackStandIn stand_in(pki_, {"404", "410", "403", "400", "401"});
  SlackWebhookTransport transport(Listed(stand_in));
  for (const char* status : {"404", "410", "403", "400"}) {
    const DeliveryResult result = transport.Post(stand_in.Url(kPath), kJson);
    EXPECT_EQ(result.kind, Kind::kPermanent) << status;
    EXPECT_TRUE(result.slack_url_broken) << status;
    EXPECT_THAT(result.error, HasSubstr(std::string("slack answered ") + status));
    ExpectNoSecret(result);
  }
  const DeliveryResult unauthorized = transport.Post(stand_in.Url(kPath), kJson);
  EXPECT_EQ(unauthorized.kind, Kind::kPermanent);
  EXPECT_FALSE(unauthorized.slack_url_broken);
}

TEST_F(SlackTransportTest, ARedirectIsNotFollowed) {
  SlackStandIn stand_in(pki_, {});
  stand_in.AppendToScript("302 " + stand_in.Url("/elsewhere"));
  SlackWebhookTransport transport(Listed(stand_in));
  const DeliveryResult result = transport.Post(stand_in.Url(kPath), kJson);
  EXPECT_EQ(result.kind, Kind::kPermanent);
  EXPECT_THAT(result.error, HasSubstr("302"));
  const auto requests = stand_in.Requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0]["path"], kPath);
}

TEST_F(SlackTransportTest, AHostNotAllowedIsRefusedWithoutConnecting) {
  SlackStandIn stand_in(pki_, {});
  SlackWebhookTransport transport(Options({{"hooks.slack.com", std::nullopt}}));
  const DeliveryResult result = transport.Post(stand_in.Url(kPath), kJson);
  EXPECT_EQ(result.kind, Kind::kPermanent);
  EXPECT_TRUE(result.slack_url_broken);
  EXPECT_THAT(result.error, HasSubstr("SLACK_ALLOWED_HOSTS"));
  ExpectNoSecret(result);
  EXPECT_TRUE(stand_in.Requests().empty());
}

TEST_F(SlackTransportTest, LoopbackListedWithoutItsPortIsRefusedWithoutConnecting) {
  SlackStandIn stand_in(pki_, {});
  SlackWebhookTransport transport(Options({{"127.0.0.1", std::nullopt}}));
  const DeliveryResult result = transport.Post(stand_in.Url(kPath), kJson);
  EXPECT_EQ(result.kind, Kind::kPermanent);
  EXPECT_TRUE(stand_in.Requests().empty());
}

TEST_F(SlackTransportTest, PlainHttpIsRefused) {
  SlackStandIn stand_in(pki_, {});
  SlackWebhookTransport transport(Listed(stand_in));
  const DeliveryResult result = transport.Post("http://" + stand_in.host_port() + kPath, kJson);
  EXPECT_EQ(result.kind, Kind::kPermanent);
  EXPECT_TRUE(stand_in.Requests().empty());
}

TEST_F(SlackTransportTest, TheConnectionGoesToTheCheckedAddressNotToAFreshLookup) {
  SlackStandIn stand_in(pki_, {});
  const std::string url = "https://localhost:" + std::to_string(stand_in.port()) + kPath;
  // The check saw 127.0.0.1: delivered.
  SlackTransportOptions options = Options({{"localhost", stand_in.port()}});
  options.resolver = [](const std::string&, int) { return std::vector<std::string>{"127.0.0.1"}; };
  EXPECT_EQ(SlackWebhookTransport(options).Post(url, kJson).kind, Kind::kSent);
  EXPECT_EQ(stand_in.WaitForRequests(1).size(), 1u);
  // The check saw 127.0.0.2, where nothing listens. libcurl's own lookup of localhost would
  // find the stand-in on 127.0.0.1; pinned, the connection goes to 127.0.0.2 and fails.
  options.resolver = [](const std::string&, int) { return std::vector<std::string>{"127.0.0.2"}; };
  const DeliveryResult pinned = SlackWebhookTransport(options).Post(url, kJson);
  EXPECT_EQ(pinned.kind, Kind::kRetry);
  ExpectNoSecret(pinned);
  EXPECT_EQ(stand_in.Requests().size(), 1u);
}

TEST_F(SlackTransportTest, ADnsAnswerInsideTheNetworkIsRefused) {
  SlackStandIn stand_in(pki_, {});
  SlackTransportOptions options = Options({{"hooks.example", std::nullopt}});
  options.resolver = [](const std::string&, int) { return std::vector<std::string>{"127.0.0.1"}; };
  const DeliveryResult result = SlackWebhookTransport(options).Post(
      "https://hooks.example:" + std::to_string(stand_in.port()) + kPath, kJson);
  EXPECT_EQ(result.kind, Kind::kPermanent);
  EXPECT_TRUE(stand_in.Requests().empty());
}

TEST_F(SlackTransportTest, AnUntrustedCertificateIsRetriedAndNothingIsSent) {
  SlackStandIn stand_in(pki_, {});
  SlackTransportOptions options = Listed(stand_in);
  options.ca_file.clear();
  const DeliveryResult result = SlackWebhookTransport(options).Post(stand_in.Url(kPath), kJson);
  EXPECT_EQ(result.kind, Kind::kRetry);
  EXPECT_TRUE(stand_in.Requests().empty());
}

TEST_F(SlackTransportTest, ASilentPeerTimesOutAndIsRetried) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(fd, 4), 0);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  SlackTransportOptions options = Options({{"127.0.0.1", port}});
  options.total_timeout = std::chrono::milliseconds(800);
  const auto start = std::chrono::steady_clock::now();
  const DeliveryResult result = SlackWebhookTransport(options).Post(
      "https://127.0.0.1:" + std::to_string(port) + kPath, kJson);
  EXPECT_EQ(result.kind, Kind::kRetry);
  EXPECT_THAT(result.error, HasSubstr("slack unreachable"));
  ExpectNoSecret(result);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  close(fd);
}

// Posts to one peer share a connection (keep-alive) rather than a TCP and TLS handshake each,
// and the transport is safe to use from several threads at once.
TEST_F(SlackTransportTest, PostsToOnePeerReuseTheConnection) {
  SlackStandIn stand_in(pki_, {});
  SlackWebhookTransport transport(Listed(stand_in));
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(transport.Post(stand_in.Url(kPath), kJson).kind, Kind::kSent) << i;
  }
  const auto requests = stand_in.WaitForRequests(5);
  ASSERT_EQ(requests.size(), 5u);
  for (const auto& request : requests) {
    EXPECT_EQ(request["client_port"], requests[0]["client_port"]) << "a new connection per post";
  }
  std::vector<std::thread> threads;
  std::atomic<int> sent{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5; ++i)
        sent += transport.Post(stand_in.Url(kPath), kJson).kind == Kind::kSent;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(sent.load(), 20);
  EXPECT_EQ(stand_in.WaitForRequests(25).size(), 25u);
}

// A peer that closes the connection (Slack does, now and then) costs a new TCP connection but
// not a full TLS handshake: the new connection resumes the session of the old one.
TEST_F(SlackTransportTest, ANewConnectionResumesTheTlsSession) {
  SlackStandIn stand_in(pki_, {"200 close", "200"});
  SlackWebhookTransport transport(Listed(stand_in));
  ASSERT_EQ(transport.Post(stand_in.Url(kPath), kJson).kind, Kind::kSent);
  ASSERT_EQ(transport.Post(stand_in.Url(kPath), kJson).kind, Kind::kSent);
  const auto requests = stand_in.WaitForRequests(2);
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_NE(requests[0]["client_port"], requests[1]["client_port"]);
  EXPECT_FALSE(requests[0]["tls_resumed"].get<bool>());
  EXPECT_TRUE(requests[1]["tls_resumed"].get<bool>());
}

// A kept connection was pinned to the address checked when it was opened: when a later check
// resolves the host elsewhere, the post goes there, never over the old connection.
TEST_F(SlackTransportTest, AKeptConnectionIsNotReusedOnceTheHostResolvesElsewhere) {
  SlackStandIn stand_in(pki_, {});
  const std::string url = "https://localhost:" + std::to_string(stand_in.port()) + kPath;
  SlackTransportOptions options = Options({{"localhost", stand_in.port()}});
  auto address = std::make_shared<std::string>("127.0.0.1");
  options.resolver = [address](const std::string&, int) {
    return std::vector<std::string>{*address};
  };
  SlackWebhookTransport transport(options);
  EXPECT_EQ(transport.Post(url, kJson).kind, Kind::kSent);
  EXPECT_EQ(stand_in.WaitForRequests(1).size(), 1u);
  *address = "127.0.0.2";  // nothing listens there
  const DeliveryResult moved = transport.Post(url, kJson);
  EXPECT_EQ(moved.kind, Kind::kRetry);
  ExpectNoSecret(moved);
  EXPECT_EQ(stand_in.Requests().size(), 1u);
}

TEST(SlackResolverTest, GetaddrinfoResolvesLiteralsAndLocalhost) {
  EXPECT_EQ(ResolveWithGetaddrinfo("127.0.0.1", 443), std::vector<std::string>{"127.0.0.1"});
  const auto local = ResolveWithGetaddrinfo("localhost", 443);
  ASSERT_FALSE(local.empty());
  for (const auto& a : local) EXPECT_TRUE(a == "127.0.0.1" || a == "::1") << a;
  EXPECT_TRUE(ResolveWithGetaddrinfo("no-such-host.invalid", 443).empty());
}

}  // namespace
}  // namespace paybell::notifications

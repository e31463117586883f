// The embedded HTTP adapter in front of a real server: what Stripe sees when storage is down.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <nlohmann/json.hpp>

#include "server/app/embedded_server.h"
#include "tests/support/loopback_config.h"
#include "tests/support/raw_http.h"
#include "tests/support/stripe_events.h"
#include "tests/support/temp_dir.h"

namespace paybell {
namespace {

using ::testing::HasSubstr;

const std::string kSecret = "whsec_http_test";

class WebhookHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    common::Config config = testing::LoopbackConfig(dir_);
    config.stripe_webhook_secrets = {kSecret};
    app_ = std::make_unique<app::EmbeddedServer>(config, clock_);
    app_->Start();
    client_ = std::make_unique<httplib::Client>("127.0.0.1", app_->http_port());
    client_->set_read_timeout(std::chrono::seconds(30));
  }
  void TearDown() override { app_->Shutdown(std::chrono::seconds(5)); }

  httplib::Result Post(const std::string& path, const std::string& payload) {
    return client_->Post(
        path, {{"Stripe-Signature", testing::SignatureHeader(kSecret, clock_.NowUnix(), payload)}},
        payload, "application/json");
  }

  common::SystemClock clock_;
  testing::TempDir dir_;
  std::unique_ptr<app::EmbeddedServer> app_;
  std::unique_ptr<httplib::Client> client_;
};

std::string SubscriptionCreated(const std::string& event_id) {
  return testing::EventPayload(
      event_id, "customer.subscription.created", 100,
      testing::SubscriptionObject(testing::SubscriptionSpec{}, testing::ApiShape::kCurrent));
}

TEST_F(WebhookHttpTest, StorageUnavailableAnswers503SoStripeRetries) {
  // Another writer holds SQLite's write lock past the busy timeout: the event cannot be stored.
  soci::session blocker(soci::sqlite3, "db=" + dir_.File("paybell.db"));
  // The server writes in the background too (the notification dispatcher): wait our turn.
  blocker << "PRAGMA busy_timeout = 10000";
  blocker << "BEGIN IMMEDIATE";
  auto refused = Post("/stripe/webhook", SubscriptionCreated("evt_retry"));
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 503);
  EXPECT_THAT(refused->body, HasSubstr("database"));
  blocker << "ROLLBACK";

  // Stripe's retry succeeds, and the event was not half-stored by the first attempt.
  auto retried = Post("/api/billing/stripe_webhook", SubscriptionCreated("evt_retry"));
  ASSERT_TRUE(retried);
  EXPECT_EQ(retried->status, 200);
  EXPECT_EQ(nlohmann::json::parse(retried->body)["outcome"], "applied");
}

TEST_F(WebhookHttpTest, OversizedBodyIs413AndTheServerKeepsServing) {
  httplib::Headers headers = {{"Stripe-Signature", "t=1,v1=00"}};
  auto big = client_->Post("/stripe/webhook", headers, std::string((1 << 20) + 1, 'x'),
                           "application/json");
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 413);
  auto ok = Post("/stripe/webhook", SubscriptionCreated("evt_after"));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

TEST_F(WebhookHttpTest, OversizedChunkedBodyIs413) {
  // No Content-Length: 2 MiB stream in chunks, past the 1 MiB limit but small enough that the
  // server reads them all and answers before closing.
  size_t offered = 0;
  const std::string chunk(64 * 1024, 'x');
  auto big = client_->Post(
      "/stripe/webhook", {{"Stripe-Signature", "t=1,v1=00"}},
      [&](size_t, httplib::DataSink& sink) {
        if (offered >= (2u << 20)) {
          sink.done();
          return true;
        }
        offered += chunk.size();
        return sink.write(chunk.data(), chunk.size());
      },
      "application/json");
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 413);
}

TEST_F(WebhookHttpTest, AHugeChunkedBodyIsNotRead) {
  // 64 MiB offered: the server stops reading a few MiB in and closes the connection instead of
  // buffering everything (whether the client still reads the 413 before the close is up to its
  // timing; OversizedChunkedBodyIs413 checks the answer).
  size_t offered = 0;
  const std::string chunk(64 * 1024, 'x');
  client_->Post(
      "/stripe/webhook", {{"Stripe-Signature", "t=1,v1=00"}},
      [&](size_t, httplib::DataSink& sink) {
        if (offered >= (64u << 20)) {
          sink.done();
          return true;
        }
        offered += chunk.size();
        return sink.write(chunk.data(), chunk.size());
      },
      "application/json");
  EXPECT_LT(offered, 16u << 20);
  httplib::Client fresh("127.0.0.1", app_->http_port());
  auto ok = fresh.Get("/healthz");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

// A client announcing a body over the limit and waiting for "100 Continue" gets a real 413
// before sending it.
TEST_F(WebhookHttpTest, ExpectContinueWithAnOversizedBodyIs413) {
  const std::string answer = testing::RawHttpExchange(
      app_->http_port(),
      "POST /stripe/webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nStripe-Signature: t=1,v1=00\r\n"
      "Content-Type: application/json\r\nContent-Length: 2097152\r\n"
      "Expect: 100-continue\r\n\r\n");
  EXPECT_THAT(answer, ::testing::StartsWith("HTTP/1.1 413 ")) << answer;
  EXPECT_THAT(answer, HasSubstr("body over 1 MiB"));
}

// Content-Length beside Transfer-Encoding is the request-smuggling shape: 400, answered before
// any body is read, saying the connection ends (http_edge_test.cc checks that it does).
TEST_F(WebhookHttpTest, ContentLengthWithTransferEncodingIs400) {
  const std::string body = SubscriptionCreated("evt_smuggled");
  const std::string answer = testing::RawHttpExchange(
      app_->http_port(),
      "POST /stripe/webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nStripe-Signature: t=1,v1=00\r\n"
      "Content-Type: application/json\r\nContent-Length: 4\r\n"
      "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_THAT(answer, ::testing::StartsWith("HTTP/1.1 400 ")) << answer;
  EXPECT_THAT(answer, HasSubstr("Connection: close"));
}

TEST_F(WebhookHttpTest, BadInputIs400NeverA500) {
  for (const std::string& payload : {std::string(""), std::string("not json"),
                                     std::string("{\"id\":1}"), std::string(1000, '\0')}) {
    auto res = Post("/stripe/webhook", payload);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << res->body;
  }
  auto unsigned_res =
      client_->Post("/stripe/webhook", SubscriptionCreated("evt_u"), "application/json");
  ASSERT_TRUE(unsigned_res);
  EXPECT_EQ(unsigned_res->status, 400);
  EXPECT_THAT(unsigned_res->body, HasSubstr("Stripe-Signature"));
}

// A byte that is not UTF-8 (or any control character) in the signature header is the sender's
// error: 400, nothing stored, the server keeps serving.
TEST_F(WebhookHttpTest, ABadByteInTheSignatureHeaderIs400) {
  for (const std::string& header :
       {std::string("t=1,v1=\xff\xfe"), std::string("t=1,v1=ab\x01") + "cd",
        std::string("t=1,v1=\xc3\xa9")}) {
    auto res = client_->Post("/stripe/webhook", {{"Stripe-Signature", header}},
                             SubscriptionCreated("evt_bad_header"), "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << res->body;
  }
  auto ok = Post("/stripe/webhook", SubscriptionCreated("evt_after_bad_header"));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

TEST_F(WebhookHttpTest, EveryResponseCarriesARequestId) {
  auto mine = client_->Get("/healthz", {{"X-Request-Id", "abc-123"}});
  ASSERT_TRUE(mine);
  EXPECT_EQ(mine->get_header_value("X-Request-Id"), "abc-123");
  auto bogus = client_->Get("/readyz", {{"X-Request-Id", "bad id with spaces"}});
  ASSERT_TRUE(bogus);
  EXPECT_EQ(bogus->status, 200);
  EXPECT_EQ(bogus->get_header_value("X-Request-Id").size(), 32u);
}

}  // namespace
}  // namespace paybell

// The JSON billing routes of the HTTP adapter (issue 10's front-end API), in front of the real
// server in stub mode: what the main application's front end sends and receives.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>

#include "server/app/embedded_server.h"
#include "server/auth/jwt.h"
#include "tests/support/loopback_config.h"
#include "tests/support/temp_dir.h"

namespace paybell {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

const std::string& kSecret = testing::kTestJwtSecret;

class BillingJsonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    common::Config config = testing::LoopbackConfig(dir_);
    app_ = std::make_unique<app::EmbeddedServer>(config, clock_);  // no Stripe key: stub mode
    app_->Start();
    client_ = std::make_unique<httplib::Client>("127.0.0.1", app_->http_port());
  }
  void TearDown() override { app_->Shutdown(std::chrono::seconds(5)); }

  std::string Bearer(auth::Role role, const std::string& tenant) {
    return "Bearer " + auth::SignToken(kSecret,
                                       {"ann@acme.test", tenant, role, clock_.NowUnix() + 600},
                                       clock_.NowUnix());
  }

  common::SystemClock clock_;
  testing::TempDir dir_;
  std::unique_ptr<app::EmbeddedServer> app_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(BillingJsonTest, TheOwnerStartsACheckoutAndOpensThePortal) {
  auto created = client_->Post("/api/billing/create_checkout_session",
                               {{"Authorization", Bearer(auth::Role::kOwner, "acme")}},
                               R"({"plan":"pro","coupon":"WELCOME"})", "application/json");
  ASSERT_TRUE(created);
  EXPECT_EQ(created->status, 200) << created->body;
  const json body = json::parse(created->body);
  EXPECT_EQ(body["success"], true);
  EXPECT_EQ(body["stub"], true);
  EXPECT_THAT(body["checkout_url"].get<std::string>(), HasSubstr("stripe-not-configured"));

  auto portal = client_->Get("/api/billing/portal_link",
                             {{"Authorization", Bearer(auth::Role::kOwner, "acme")}});
  ASSERT_TRUE(portal);
  EXPECT_EQ(portal->status, 200) << portal->body;
  EXPECT_EQ(json::parse(portal->body)["success"], true);
}

TEST_F(BillingJsonTest, AnyRoleOfTheTenantReadsTheSubscription) {
  auto read = client_->Get("/api/billing/subscription",
                           {{"Authorization", Bearer(auth::Role::kMember, "acme")}});
  ASSERT_TRUE(read);
  EXPECT_EQ(read->status, 200) << read->body;
  const json body = json::parse(read->body);
  EXPECT_EQ(body["success"], true);
  EXPECT_EQ(body["subscription"]["tenant_id"], "acme");
  EXPECT_EQ(body["subscription"]["status"], "none");
  EXPECT_EQ(body["subscription"]["plan"], "none");
  EXPECT_EQ(body["subscription"]["entitled"], false);
  EXPECT_TRUE(body["subscription"]["current_period_end"].is_null());

  // A service token names the tenant in the query.
  auto service = client_->Get("/api/billing/subscription?tenant_id=acme",
                              {{"Authorization", Bearer(auth::Role::kService, "*")}});
  ASSERT_TRUE(service);
  EXPECT_EQ(service->status, 200) << service->body;
}

TEST_F(BillingJsonTest, ErrorsCarryTheMappedStatusAndACode) {
  auto anonymous = client_->Get("/api/billing/subscription");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
  EXPECT_EQ(json::parse(anonymous->body)["error"]["code"], "unauthenticated");
  EXPECT_EQ(json::parse(anonymous->body)["success"], false);

  // Signed with another key: the server, not the adapter, decides.
  const std::string forged =
      "Bearer " + auth::SignToken(std::string(40, 'x'),
                                  {"eve", "acme", auth::Role::kOwner, clock_.NowUnix() + 600},
                                  clock_.NowUnix());
  auto refused = client_->Get("/api/billing/portal_link", {{"Authorization", forged}});
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401);

  auto member = client_->Post("/api/billing/create_checkout_session",
                              {{"Authorization", Bearer(auth::Role::kMember, "acme")}},
                              R"({"plan":"pro"})", "application/json");
  ASSERT_TRUE(member);
  EXPECT_EQ(member->status, 403);
  EXPECT_EQ(json::parse(member->body)["error"]["code"], "permission_denied");

  for (const std::string bad : {"{\"plan\":\"gold\"}", "{}", "not json", "[\"pro\"]"}) {
    auto invalid = client_->Post("/api/billing/create_checkout_session",
                                 {{"Authorization", Bearer(auth::Role::kOwner, "acme")}}, bad,
                                 "application/json");
    ASSERT_TRUE(invalid);
    EXPECT_EQ(invalid->status, 400) << bad;
    EXPECT_EQ(json::parse(invalid->body)["error"]["code"], "invalid_argument") << bad;
  }
}

}  // namespace
}  // namespace paybell

// Catch-up and reconcile against stripe-fake over real HTTP: a webhook outage leaves a tenant
// wrong in Paybell, and `paybellctl sync` / `reconcile`, or the background schedule, make it
// right; a rate-limited event list is resumed; two replicas on one PostgreSQL take turns.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "paybell/v1/billing.grpc.pb.h"
#include "paybell/v1/webhook.grpc.pb.h"
#include "server/app/embedded_server.h"
#include "server/auth/jwt.h"
#include "tests/support/eventually.h"
#include "tests/support/process.h"
#include "tests/support/stripe_fake.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_database.h"

namespace paybell {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

const std::string kApiKey = "sk_test_fake_catch_up_0123456789";
const std::string kWebhookSecret = "whsec_fake_catch_up";
const std::string kJwtSecret(40, 'c');

using testing::Eventually;

class CatchUpStripeFakeTest : public ::testing::Test {
 protected:
  struct Options {
    int sync_interval_s = 0;
    int reconcile_interval_s = 0;
    std::string database_url;  // "": a SQLite file of its own
  };

  app::EmbeddedServer* StartServer(const Options& options) {
    auto dir = std::make_unique<testing::TempDir>();
    common::Config config;
    config.grpc_listen = "127.0.0.1:0";
    config.http_listen = "127.0.0.1:0";
    config.data_dir = dir->path();
    config.database = common::ParseDatabaseUrl(
        options.database_url.empty() ? "sqlite:" + dir->File("paybell.db") : options.database_url);
    config.jwt_secret = kJwtSecret;
    config.stripe_secret_key = kApiKey;
    config.stripe_api_base = fake_.base();
    config.stripe_price_starter = "price_fake_starter";
    config.stripe_price_pro = "price_fake_pro";
    config.stripe_price_firm = "price_fake_firm";
    config.stripe_webhook_secrets = {kWebhookSecret};
    config.app_url = "http://app.test";
    config.app_url_set = true;
    config.sync_interval_s = options.sync_interval_s;
    config.reconcile_interval_s = options.reconcile_interval_s;
    dirs_.push_back(std::move(dir));
    apps_.push_back(std::make_unique<app::EmbeddedServer>(config, clock_));
    apps_.back()->Start();
    fake_.Control("/_webhook?url=http://127.0.0.1:" + std::to_string(apps_.back()->http_port()) +
                  "/stripe/webhook");
    return apps_.back().get();
  }

  void TearDown() override {
    for (auto& app : apps_) app->Shutdown(std::chrono::seconds(5));
  }

  std::unique_ptr<grpc::ClientContext> As(auth::Role role, const std::string& tenant) {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    context->AddMetadata(
        "authorization",
        "Bearer " + auth::SignToken(kJwtSecret,
                                    {"ann@" + tenant, tenant, role, clock_.NowUnix() + 600},
                                    clock_.NowUnix()));
    return context;
  }

  v1::Subscription Subscription(app::EmbeddedServer* app, const std::string& tenant) {
    auto stub = v1::BillingService::NewStub(
        grpc::CreateChannel(app->grpc_address(), grpc::InsecureChannelCredentials()));
    v1::GetSubscriptionRequest request;
    request.set_tenant_id(tenant);
    v1::Subscription sub;
    const grpc::Status status =
        stub->GetSubscription(As(auth::Role::kOperator, "*").get(), request, &sub);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return sub;
  }

  // A checkout for `tenant` created through Paybell and paid on the fake's hosted page. Returns
  // the fake's session object (customer, subscription).
  json PaidCheckout(app::EmbeddedServer* app, const std::string& tenant, v1::Plan plan) {
    auto stub = v1::BillingService::NewStub(
        grpc::CreateChannel(app->grpc_address(), grpc::InsecureChannelCredentials()));
    v1::CreateCheckoutSessionRequest request;
    request.set_tenant_id(tenant);
    request.set_plan(plan);
    v1::CreateCheckoutSessionResponse out;
    const grpc::Status status =
        stub->CreateCheckoutSession(As(auth::Role::kOwner, tenant).get(), request, &out);
    EXPECT_TRUE(status.ok()) << status.error_message();
    auto paid = fake_.client().Post("/checkout/" + out.session_id() + "/pay", "",
                                    "application/x-www-form-urlencoded");
    EXPECT_TRUE(paid && paid->status == 303);
    auto session = fake_.client().Get("/v1/checkout/sessions/" + out.session_id(),
                                      {{"Authorization", "Bearer " + kApiKey}});
    return json::parse(session->body);
  }

  // What the customer does in the fake's billing portal (form fields of /portal/<id>/update).
  void ChangeInPortal(const json& session, const std::string& fields) {
    auto portal = fake_.client().Post(
        "/v1/billing_portal/sessions", {{"Authorization", "Bearer " + kApiKey}},
        "customer=" + session["customer"].get<std::string>(), "application/x-www-form-urlencoded");
    ASSERT_TRUE(portal && portal->status == 200);
    const std::string id = json::parse(portal->body)["id"];
    auto changed = fake_.client().Post(
        "/portal/" + id + "/update",
        "subscription=" + session["subscription"].get<std::string>() + "&" + fields,
        "application/x-www-form-urlencoded");
    ASSERT_TRUE(changed);
    ASSERT_EQ(changed->status, 200) << changed->body;
  }

  // Runs paybellctl against `app`; returns {exit code, output}.
  std::pair<int, std::string> Ctl(app::EmbeddedServer* app, std::vector<std::string> args) {
    args.insert(args.begin(), {"--target", app->grpc_address()});
    testing::ChildProcess ctl(PAYBELL_CTL_BIN, args, {{"PAYBELL_JWT_SECRET", kJwtSecret}});
    const auto code = ctl.WaitForExit(std::chrono::seconds(60));
    return {code.value_or(-1), ctl.output()};
  }

  common::SystemClock clock_;
  testing::StripeFake fake_{kApiKey, kWebhookSecret};
  std::vector<std::unique_ptr<testing::TempDir>> dirs_;
  std::vector<std::unique_ptr<app::EmbeddedServer>> apps_;
};

TEST_F(CatchUpStripeFakeTest, AfterAWebhookOutagePaybellctlSyncAndReconcileMakeTheTenantRight) {
  app::EmbeddedServer* app = StartServer({});
  fake_.Control("/_webhook/outage?state=on");
  const json session = PaidCheckout(app, "acme", v1::PLAN_PRO);
  ChangeInPortal(session, "price=price_fake_firm");
  // No webhook arrived: Paybell does not know the tenant subscribed.
  for (const auto& delivery : json::parse(fake_.client().Get("/_deliveries")->body)) {
    EXPECT_THAT(delivery["error"].get<std::string>(), HasSubstr("outage"));
  }
  EXPECT_EQ(Subscription(app, "acme").status(), v1::SUBSCRIPTION_STATUS_NONE);

  // A dry run counts what is missing and stores nothing.
  auto [dry_code, dry_out] = Ctl(app, {"sync", "--since", "1h", "--dry-run"});
  ASSERT_EQ(dry_code, 0) << dry_out;
  EXPECT_THAT(dry_out, HasSubstr("to ingest  4"));
  EXPECT_EQ(Subscription(app, "acme").status(), v1::SUBSCRIPTION_STATUS_NONE);

  // checkout.session.completed, customer.subscription.created, invoice.paid and the portal's
  // customer.subscription.updated, in one page.
  auto [code, out] = Ctl(app, {"sync", "--since", "1h"});
  ASSERT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("page 1: 4 event(s) listed so far"));
  EXPECT_THAT(out, HasSubstr("fetched    4"));
  EXPECT_THAT(out, HasSubstr("ingested   4"));
  EXPECT_THAT(out, HasSubstr("duplicate  0"));
  v1::Subscription sub = Subscription(app, "acme");
  EXPECT_EQ(sub.status(), v1::SUBSCRIPTION_STATUS_ACTIVE);
  EXPECT_EQ(sub.plan(), v1::PLAN_FIRM);
  EXPECT_EQ(sub.stripe_subscription_id(), session["subscription"]);

  // The events are stored as fetched by catch-up; a second run finds them all stored.
  auto events = v1::WebhookService::NewStub(
      grpc::CreateChannel(app->grpc_address(), grpc::InsecureChannelCredentials()));
  v1::ListEventsRequest list;
  v1::ListEventsResponse listed;
  ASSERT_TRUE(events->ListEvents(As(auth::Role::kOperator, "*").get(), list, &listed).ok());
  ASSERT_EQ(listed.events_size(), 4);
  for (const auto& e : listed.events()) EXPECT_EQ(e.source(), v1::EVENT_SOURCE_SYNC);
  auto [again_code, again_out] = Ctl(app, {"sync"});
  ASSERT_EQ(again_code, 0) << again_out;
  EXPECT_THAT(again_out, HasSubstr("ingested   0"));
  EXPECT_THAT(again_out, HasSubstr("duplicate  4"));

  // The customer asks to cancel at the period's end; that webhook is lost too. Reconcile sees
  // the difference and corrects it.
  ChangeInPortal(session, "cancel_at_period_end=true");
  // Reconcile leaves alone a row whose last event is as new as its read of Stripe (that event
  // may say more); events are stamped in whole seconds, so read Stripe in a later second.
  const std::time_t changed_at = std::time(nullptr);
  ASSERT_TRUE(Eventually([&] { return std::time(nullptr) > changed_at; }, std::chrono::seconds(3)));
  auto [diff_code, diff_out] = Ctl(app, {"reconcile", "--tenant", "acme", "--dry-run"});
  ASSERT_EQ(diff_code, 0) << diff_out;
  EXPECT_THAT(diff_out, HasSubstr("cancel_at_period_end false  true"));
  EXPECT_THAT(diff_out, HasSubstr("1 would change"));
  EXPECT_FALSE(Subscription(app, "acme").cancel_at_period_end());
  auto [fix_code, fix_out] = Ctl(app, {"reconcile", "--tenant", "acme"});
  ASSERT_EQ(fix_code, 0) << fix_out;
  EXPECT_THAT(fix_out, HasSubstr("1 corrected"));
  EXPECT_TRUE(Subscription(app, "acme").cancel_at_period_end());
}

TEST_F(CatchUpStripeFakeTest, TheBackgroundCatchUpFixesTheTenantOnItsOwn) {
  Options every_second;
  every_second.sync_interval_s = 1;
  app::EmbeddedServer* app = StartServer(every_second);
  fake_.Control("/_webhook/outage?state=on");
  PaidCheckout(app, "acme", v1::PLAN_PRO);
  EXPECT_TRUE(Eventually(
      [&] { return Subscription(app, "acme").status() == v1::SUBSCRIPTION_STATUS_ACTIVE; },
      std::chrono::seconds(20)));
  EXPECT_EQ(Subscription(app, "acme").plan(), v1::PLAN_PRO);
}

TEST_F(CatchUpStripeFakeTest, ARateLimitedEventListIsResumedFromTheSamePage) {
  app::EmbeddedServer* app = StartServer({});
  fake_.Control("/_webhook/outage?state=on");
  // 36 checkouts, 108 events: two pages of 100.
  for (int i = 0; i < 36; ++i) PaidCheckout(app, "tenant-" + std::to_string(i), v1::PLAN_STARTER);
  fake_.Control("/_reset");
  // The first page answers; the next six calls of the list are refused with 429: more than the
  // client's own four attempts, so catch-up backs off and asks for the same page again.
  fake_.Control("/_fail?status=429&count=6&after=1&path=/v1/events");
  auto [code, out] = Ctl(app, {"sync", "--since", "1h"});
  ASSERT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("pages      2"));
  EXPECT_THAT(out, HasSubstr("ingested   108"));
  std::vector<int> statuses;
  std::set<std::string> cursors;
  for (const auto& r : fake_.Requests()) {
    if (r["path"] != "/v1/events") continue;
    statuses.push_back(r["status"]);
    if (r["status"] == 429 || statuses.size() == 8) {
      const std::string query = r["query"];
      cursors.insert(query.substr(query.find("starting_after=")));
    }
  }
  EXPECT_THAT(statuses, ::testing::ElementsAre(200, 429, 429, 429, 429, 429, 429, 200));
  EXPECT_EQ(cursors.size(), 1u) << "every retry asked for the page after the same event";
  for (int i = 0; i < 36; i += 7) {
    EXPECT_EQ(Subscription(app, "tenant-" + std::to_string(i)).plan(), v1::PLAN_STARTER);
  }
}

TEST_F(CatchUpStripeFakeTest, TwoReplicasOnOnePostgresRunTheBackgroundCatchUpOneAtATime) {
  const auto pg = testing::TestPostgresUrl();
  if (!pg) {
    if (testing::PostgresRequired()) FAIL() << "PAYBELL_TEST_PG is required";
    GTEST_SKIP() << "PAYBELL_TEST_PG is not set";
  }
  testing::PostgresTestDatabase database(*pg);
  // Each catch-up takes 1.5 s at the fake; each replica starts one every second. Without the
  // lock the two would be listing events at the same time nearly always.
  fake_.Control("/_delay?path=/v1/events&ms=1500");
  const auto concurrency = [&] { return json::parse(fake_.client().Get("/_concurrency")->body); };
  Options replica;
  replica.sync_interval_s = 1;
  replica.database_url = database.url();
  app::EmbeddedServer* first = StartServer(replica);
  StartServer(replica);
  ASSERT_TRUE(Eventually([&] { return concurrency()["delayed"].get<int>() >= 4; },
                         std::chrono::seconds(30)))
      << concurrency().dump();
  EXPECT_EQ(concurrency()["max_in_flight"], 1);
  // The replica running it goes away: the other one, which skipped while it ran, takes over.
  first->Shutdown(std::chrono::seconds(5));
  const int before = concurrency()["delayed"].get<int>();
  EXPECT_TRUE(Eventually([&] { return concurrency()["delayed"].get<int>() >= before + 2; },
                         std::chrono::seconds(30)));
  EXPECT_EQ(concurrency()["max_in_flight"], 1);
}

}  // namespace
}  // namespace paybell

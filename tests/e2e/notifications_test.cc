// Notifications as a tenant receives them: a real paybell-server process, Debian's aiosmtpd
// requiring STARTTLS and an HTTPS Slack stand-in, both trusting a throwaway CA through
// PAYBELL_CA_FILE; triggers emitted over gRPC and Stripe events signed like Stripe's.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "paybell/v1/notification.grpc.pb.h"
#include "paybell/v1/webhook.grpc.pb.h"
#include "server/auth/jwt.h"
#include "server/common/clock.h"
#include "tests/support/peers.h"
#include "tests/support/process.h"
#include "tests/support/stripe_events.h"
#include "tests/support/temp_dir.h"

namespace paybell {
namespace {

using ::testing::HasSubstr;
using testing::ServerProcess;
using testing::TempDir;

const std::string kJwtSecret(48, 'n');
const std::string kWebhookSecret = "whsec_notifications_e2e";
const std::string kAppUrl = "https://app.example.com";

class NotificationsE2eTest : public ::testing::Test {
 protected:
  // Starts the peers and the server. `slack_script`: the stand-in's first answers.
  void Start(const std::vector<std::string>& slack_script = {}, int debounce_s = 900) {
    testing::SmtpPeer::Options smtp;
    smtp.tls = &pki_;  // STARTTLS required
    smtp_ = std::make_unique<testing::SmtpPeer>(smtp);
    slack_ = std::make_unique<testing::SlackStandIn>(pki_, slack_script);
    debounce_s_ = debounce_s;
    StartServer();
  }

  void StartServer() {
    server_ = std::make_unique<ServerProcess>(
        dir_.path(), std::map<std::string, std::string>{
                         {"PAYBELL_JWT_SECRET", kJwtSecret},
                         {"STRIPE_WEBHOOK_SECRET", kWebhookSecret},
                         {"APP_URL", kAppUrl},
                         {"SMTP_URL", "smtp://127.0.0.1:" + std::to_string(smtp_->port())},
                         {"SMTP_FROM", "Paybell Alerts <alerts@paybell.test>"},
                         {"PAYBELL_CA_FILE", pki_.ca_file},
                         {"SLACK_ALLOWED_HOSTS", slack_->host_port()},
                         {"PAYBELL_DEBOUNCE_S", std::to_string(debounce_s_)},
                     });
    auto channel = grpc::CreateChannel(server_->grpc_target(), grpc::InsecureChannelCredentials());
    notifications_ = v1::NotificationService::NewStub(channel);
    webhooks_ = v1::WebhookService::NewStub(channel);
  }

  void TearDown() override {
    if (server_) {
      EXPECT_EQ(server_->process().Stop(), 0) << server_->process().output();
    }
  }

  std::unique_ptr<grpc::ClientContext> Context(auth::Role role = auth::Role::kOperator) {
    const common::SystemClock clock;
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    context->AddMetadata(
        "authorization",
        "Bearer " + auth::SignToken(kJwtSecret,
                                    {"e2e", role == auth::Role::kOperator ? "*" : "acme", role,
                                     clock.NowUnix() + 600},
                                    clock.NowUnix()));
    return context;
  }

  void Configure(bool email, bool slack) {
    v1::UpdateSettingsRequest request;
    v1::NotificationSettings* settings = request.mutable_settings();
    settings->set_tenant_id("acme");
    settings->set_email_enabled(email);
    settings->add_email_recipients("Owner@Acme.Test");
    settings->set_slack_enabled(slack);
    settings->set_slack_webhook_url(slack_->Url("/services/T0001/B0001/e2esecret"));
    v1::NotificationSettings response;
    const grpc::Status status = notifications_->UpdateSettings(Context().get(), request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.email_recipients(0), "Owner@acme.test");
    EXPECT_THAT(response.slack_webhook_url(), ::testing::Not(HasSubstr("e2esecret")));
  }

  v1::EmitResponse Emit(const v1::EmitRequest& request) {
    v1::EmitResponse response;
    const grpc::Status status = notifications_->Emit(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  static v1::EmitRequest Psi(const std::string& model, double psi) {
    v1::EmitRequest request;
    request.set_tenant_id("acme");
    request.mutable_psi_drift()->set_model(model);
    request.mutable_psi_drift()->set_feature_set("invoices");
    request.mutable_psi_drift()->set_psi(psi);
    return request;
  }

  static v1::EmitRequest ColdStart(const std::string& model) {
    v1::EmitRequest request;
    request.set_tenant_id("acme");
    request.mutable_cold_start_graduated()->set_model(model);
    request.mutable_cold_start_graduated()->set_samples(500);
    return request;
  }

  std::vector<v1::LogEntry> Log() {
    v1::ListLogRequest request;
    request.set_tenant_id("acme");
    request.set_page_size(500);
    v1::ListLogResponse response;
    const grpc::Status status = notifications_->ListLog(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return {response.entries().begin(), response.entries().end()};
  }

  // Polls the log until `done` holds for it, or the deadline.
  std::vector<v1::LogEntry> WaitForLog(
      const std::function<bool(const std::vector<v1::LogEntry>&)>& done,
      std::chrono::seconds timeout = std::chrono::seconds(20)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::vector<v1::LogEntry> entries = Log();
    while (!done(entries) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      entries = Log();
    }
    return entries;
  }

  v1::IngestStripeEventResponse Deliver(const std::string& payload) {
    const common::SystemClock clock;
    v1::IngestStripeEventRequest request;
    request.set_payload(payload);
    request.set_signature_header(
        testing::SignatureHeader(kWebhookSecret, clock.NowUnix(), payload));
    grpc::ClientContext context;
    v1::IngestStripeEventResponse response;
    const grpc::Status status = webhooks_->IngestStripeEvent(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  testing::TestPki pki_;
  TempDir dir_;
  std::unique_ptr<testing::SmtpPeer> smtp_;
  std::unique_ptr<testing::SlackStandIn> slack_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<v1::NotificationService::Stub> notifications_;
  std::unique_ptr<v1::WebhookService::Stub> webhooks_;
  int debounce_s_ = 900;
};

TEST_F(NotificationsE2eTest, ATriggerIsDeliveredByEmailOverStartTlsAndToSlack) {
  Start();
  Configure(true, true);
  const v1::EmitResponse response = Emit(Psi("model-a", 0.31));
  ASSERT_EQ(response.decisions_size(), 2);
  EXPECT_EQ(response.decisions(0).decision(), v1::DECISION_QUEUED);
  EXPECT_EQ(response.decisions(1).decision(), v1::DECISION_QUEUED);

  const auto mails = smtp_->WaitForMessages(1);
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0].envelope["tls"], true) << "sent without STARTTLS";
  const nlohmann::json mail = testing::ParseMailWithPython(mails[0].eml_path);
  EXPECT_TRUE(mail["defects"].empty()) << mail.dump();
  EXPECT_EQ(mail["headers"]["From"], "Paybell Alerts <alerts@paybell.test>");
  EXPECT_EQ(mail["headers"]["To"], "Owner@acme.test");
  EXPECT_EQ(mail["headers"]["Auto-Submitted"], "auto-generated");
  EXPECT_THAT(mail["headers"]["Subject"].get<std::string>(), HasSubstr("acme"));
  EXPECT_EQ(mail["content_type"], "multipart/alternative");
  ASSERT_GE(mail["parts"].size(), 2u);
  const std::string text = mail["parts"][0]["content"];
  EXPECT_THAT(text, HasSubstr("model-a"));
  EXPECT_THAT(text, HasSubstr("0.31"));
  EXPECT_THAT(text, HasSubstr(kAppUrl + "/settings/notifications"));
  std::cout << "captured email:\n" << mails[0].raw.substr(0, 1500) << "\n";

  const auto posts = slack_->WaitForRequests(1);
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0]["path"], "/services/T0001/B0001/e2esecret");
  const nlohmann::json body = nlohmann::json::parse(posts[0]["body"].get<std::string>());
  EXPECT_THAT(body["text"].get<std::string>(), HasSubstr("model-a"));
  EXPECT_TRUE(body["blocks"].is_array());
  std::cout << "captured Slack payload:\n" << body.dump(2) << "\n";

  const auto log = WaitForLog([](const auto& entries) {
    return entries.size() == 2 && entries[0].status() == "sent" && entries[1].status() == "sent";
  });
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].status(), "sent");
  EXPECT_EQ(log[1].status(), "sent");
}

TEST_F(NotificationsE2eTest, SlackRateLimitsAreWaitedOutAndAGoneWebhookIsDeadAndFlagged) {
  Start({"429 1", "200"});  // then 404, appended below
  Configure(false, true);
  const auto start = std::chrono::steady_clock::now();
  Emit(Psi("model-a", 0.31));
  const auto posts = slack_->WaitForRequests(2);
  ASSERT_EQ(posts.size(), 2u);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::seconds(1))
      << "retried before Retry-After";
  auto log = WaitForLog([](const auto& e) { return !e.empty() && e[0].status() == "sent"; });
  ASSERT_FALSE(log.empty());
  EXPECT_EQ(log[0].status(), "sent");
  EXPECT_EQ(log[0].attempts(), 2);

  slack_->AppendToScript("404");
  Emit(ColdStart("model-b"));
  log = WaitForLog([](const auto& e) { return !e.empty() && e[0].status() == "dead"; });
  ASSERT_FALSE(log.empty());
  EXPECT_EQ(log[0].status(), "dead");
  EXPECT_THAT(log[0].last_error(), HasSubstr("404"));
  EXPECT_THAT(log[0].last_error(), ::testing::Not(HasSubstr("e2esecret")));
  v1::GetSettingsRequest get;
  get.set_tenant_id("acme");
  v1::NotificationSettings settings;
  ASSERT_TRUE(notifications_->GetSettings(Context().get(), get, &settings).ok());
  EXPECT_TRUE(settings.slack_broken());
}

TEST_F(NotificationsE2eTest, ADigestFollowsWhenAShortWindowCloses) {
  Start({}, /*debounce_s=*/2);
  Configure(false, true);
  EXPECT_EQ(Emit(Psi("model-a", 0.31)).decisions(1).decision(), v1::DECISION_QUEUED);
  EXPECT_EQ(Emit(Psi("model-b", 0.27)).decisions(1).decision(), v1::DECISION_SUPPRESSED);
  EXPECT_EQ(Emit(Psi("model-c", 0.41)).decisions(1).decision(), v1::DECISION_SUPPRESSED);
  const auto posts = slack_->WaitForRequests(2, std::chrono::seconds(15));
  ASSERT_EQ(posts.size(), 2u);
  const std::string digest = nlohmann::json::parse(posts[1]["body"].get<std::string>())["text"];
  EXPECT_THAT(digest, HasSubstr("2 more"));
  EXPECT_THAT(digest, HasSubstr("model-b"));
  EXPECT_THAT(digest, HasSubstr("model-c"));
}

TEST_F(NotificationsE2eTest, RowsQueuedAcrossARestartAreEachDeliveredOnce) {
  // Every first attempt is rate limited for 3 s; the server stops before any retry is due.
  Start({"429 3", "429 3", "429 3"});
  Configure(false, true);
  Emit(Psi("model-a", 0.31));
  Emit(ColdStart("model-b"));
  v1::EmitRequest export_done;
  export_done.set_tenant_id("acme");
  export_done.mutable_export_completed()->set_export_id("exp_1");
  export_done.mutable_export_completed()->set_kind("ledger_csv");
  export_done.mutable_export_completed()->set_download_url("https://files.example.com/exp_1");
  Emit(export_done);
  ASSERT_EQ(slack_->WaitForRequests(3).size(), 3u);
  WaitForLog([](const auto& entries) {
    int failed = 0;
    for (const auto& e : entries) failed += e.status() == "failed";
    return failed == 3;
  });
  ASSERT_EQ(server_->process().Stop(), 0);

  StartServer();  // same data directory: the queued rows are still there
  const auto log = WaitForLog([](const auto& entries) {
    int sent = 0;
    for (const auto& e : entries) sent += e.status() == "sent";
    return sent == 3;
  });
  int sent = 0;
  for (const auto& e : log) sent += e.status() == "sent";
  EXPECT_EQ(sent, 3);
  const auto posts = slack_->Requests();
  ASSERT_EQ(posts.size(), 6u);
  std::set<std::string> delivered;
  for (size_t i = 3; i < posts.size(); ++i) delivered.insert(posts[i]["body"].get<std::string>());
  EXPECT_EQ(delivered.size(), 3u) << "a row was sent twice after the restart";
}

TEST_F(NotificationsE2eTest, StripeBillingEventsNotifyOnceWithTheirLinks) {
  Start();
  Configure(true, true);
  const std::string failed = testing::EventPayload(
      "evt_pf_e2e", "invoice.payment_failed", common::SystemClock().NowUnix() - 5,
      testing::InvoiceObject("sub_1", "cus_1", "acme", testing::ApiShape::kCurrent));
  EXPECT_EQ(Deliver(failed).outcome(), v1::EVENT_OUTCOME_APPLIED);
  auto mails = smtp_->WaitForMessages(1);
  auto posts = slack_->WaitForRequests(1);
  ASSERT_EQ(mails.size(), 1u);
  ASSERT_EQ(posts.size(), 1u);
  const nlohmann::json mail = testing::ParseMailWithPython(mails[0].eml_path);
  const std::string text = mail["parts"][0]["content"];
  EXPECT_THAT(text, HasSubstr("https://invoice.stripe.com/i/acct_1/test_in_1"));
  EXPECT_THAT(text, HasSubstr(kAppUrl + "/billing"));
  EXPECT_THAT(posts[0]["body"].get<std::string>(),
              HasSubstr("https://invoice.stripe.com/i/acct_1/test_in_1"));

  // The operator replays it: applied again, nobody is told twice. A later trigger's message
  // arriving alone shows nothing else was sent in between.
  v1::ReplayEventRequest replay;
  replay.set_event_id("evt_pf_e2e");
  v1::Event replayed;
  ASSERT_TRUE(webhooks_->ReplayEvent(Context().get(), replay, &replayed).ok());
  const std::string action = testing::EventPayload(
      "evt_par_e2e", "invoice.payment_action_required", common::SystemClock().NowUnix() - 4,
      testing::InvoiceObject("sub_1", "cus_1", "acme", testing::ApiShape::kCurrent));
  EXPECT_EQ(Deliver(action).outcome(), v1::EVENT_OUTCOME_APPLIED);
  mails = smtp_->WaitForMessages(2);
  posts = slack_->WaitForRequests(2);
  ASSERT_EQ(mails.size(), 2u);
  ASSERT_EQ(posts.size(), 2u);
  const nlohmann::json action_mail = testing::ParseMailWithPython(mails[1].eml_path);
  const std::string action_text = action_mail["parts"][0]["content"];
  EXPECT_THAT(action_text, HasSubstr("https://invoice.stripe.com/i/acct_1/test_in_1"));
  EXPECT_THAT(action_mail["headers"]["Subject"].get<std::string>(),
              ::testing::Not(HasSubstr("failed")));

  testing::SubscriptionSpec trialing;
  trialing.status = "trialing";
  trialing.trial_end = 1'900'000'000;  // 2030-03-17
  const std::string trial = testing::EventPayload(
      "evt_twe_e2e", "customer.subscription.trial_will_end", common::SystemClock().NowUnix() - 3,
      testing::SubscriptionObject(trialing, testing::ApiShape::kCurrent));
  EXPECT_EQ(Deliver(trial).outcome(), v1::EVENT_OUTCOME_APPLIED);
  mails = smtp_->WaitForMessages(3);
  posts = slack_->WaitForRequests(3);
  ASSERT_EQ(mails.size(), 3u);
  ASSERT_EQ(posts.size(), 3u);
  const std::string trial_text =
      testing::ParseMailWithPython(mails[2].eml_path)["parts"][0]["content"];
  EXPECT_THAT(trial_text, HasSubstr("2030-03-17"));
  EXPECT_THAT(trial_text, HasSubstr(kAppUrl + "/billing"));

  // Exactly one row per channel for each event: the replay added none.
  int payment_failed_rows = 0;
  for (const auto& e : Log()) payment_failed_rows += e.trigger() == v1::TRIGGER_PAYMENT_FAILED;
  EXPECT_EQ(payment_failed_rows, 2);
}

// The operator's view: a test send answers once the stand-in has it, and the log shows it.
TEST_F(NotificationsE2eTest, PaybellctlSendsATestAndShowsTheLog) {
  Start();
  Configure(false, true);
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--target", server_->grpc_target()});
    testing::ChildProcess ctl(PAYBELL_CTL_BIN, args, {{"PAYBELL_JWT_SECRET", kJwtSecret}});
    const auto code = ctl.WaitForExit(std::chrono::seconds(60));
    return std::make_pair(code.value_or(-1), ctl.output());
  };
  const auto [test_code, test_out] = run({"send-test", "--tenant", "acme", "--channel", "slack"});
  EXPECT_EQ(test_code, 0) << test_out;
  EXPECT_THAT(test_out, HasSubstr("\"status\": \"sent\""));
  ASSERT_EQ(slack_->Requests().size(), 1u) << "answered before the message was handed over";
  EXPECT_THAT(slack_->Requests()[0]["body"].get<std::string>(), HasSubstr("test"));

  const auto [log_code, log_out] = run({"notifications", "--tenant", "acme"});
  EXPECT_EQ(log_code, 0) << log_out;
  EXPECT_THAT(log_out, HasSubstr("\"kind\": \"test\""));
  // Email is switched off for acme, but a test shows whether the configuration works.
  const auto [email_code, email_out] = run({"send-test", "--tenant", "acme", "--channel", "email"});
  EXPECT_EQ(email_code, 0) << email_out;
  EXPECT_THAT(email_out, HasSubstr("\"status\": \"sent\""));
  const auto mails = smtp_->WaitForMessages(1);
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(testing::ParseMailWithPython(mails[0].eml_path)["headers"]["X-Paybell-Test"], "true");
  // Test sends go to unverified addresses: not again on this channel for a few seconds.
  const auto [again_code, again_out] = run({"send-test", "--tenant", "acme", "--channel", "email"});
  EXPECT_EQ(again_code, 1);
  EXPECT_THAT(again_out, HasSubstr("RESOURCE_EXHAUSTED"));
}

}  // namespace
}  // namespace paybell

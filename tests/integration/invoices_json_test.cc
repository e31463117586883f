// Invoices end to end in one process: signed invoice.* events posted to the HTTP adapter's
// Stripe webhook, then read back as the front end (GET /api/billing/invoices) and a service
// (BillingService.ListInvoices over gRPC) read them.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>

#include "paybell/v1/billing.grpc.pb.h"
#include "server/app/embedded_server.h"
#include "server/auth/jwt.h"
#include "tests/support/loopback_config.h"
#include "tests/support/stripe_events.h"
#include "tests/support/temp_dir.h"

namespace paybell {
namespace {

using nlohmann::json;
using testing::ApiShape;
using testing::InvoiceSpec;

const std::string kWebhookSecret = "whsec_invoices_test";

class InvoicesJsonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    common::Config config = testing::LoopbackConfig(dir_);
    config.stripe_webhook_secrets = {kWebhookSecret};
    app_ = std::make_unique<app::EmbeddedServer>(config, clock_);
    app_->Start();
    client_ = std::make_unique<httplib::Client>("127.0.0.1", app_->http_port());
    client_->set_read_timeout(std::chrono::seconds(30));
  }
  void TearDown() override { app_->Shutdown(std::chrono::seconds(5)); }

  std::string Token(auth::Role role, const std::string& tenant) {
    return auth::SignToken(testing::kTestJwtSecret,
                           {"ann@acme.test", tenant, role, clock_.NowUnix() + 600},
                           clock_.NowUnix());
  }

  // Posts a signed event as Stripe does; returns the stored outcome.
  std::string Post(const std::string& event_id, const std::string& type, int64_t age_s,
                   const InvoiceSpec& spec) {
    const std::string payload = testing::EventPayload(
        event_id, type, clock_.NowUnix() - age_s, testing::InvoiceObject(spec, ApiShape::kCurrent));
    auto res = client_->Post(
        "/stripe/webhook",
        {{"Stripe-Signature", testing::SignatureHeader(kWebhookSecret, clock_.NowUnix(), payload)}},
        payload, "application/json");
    if (!res || res->status != 200) return "HTTP error";
    return json::parse(res->body)["outcome"].get<std::string>();
  }

  std::unique_ptr<v1::BillingService::Stub> Stub() {
    return v1::BillingService::NewStub(
        grpc::CreateChannel(app_->grpc_address(), grpc::InsecureChannelCredentials()));
  }

  httplib::Result GetInvoices(const std::string& token, const std::string& query = "") {
    return client_->Get("/api/billing/invoices" + query, {{"Authorization", "Bearer " + token}});
  }

  common::SystemClock clock_;
  testing::TempDir dir_;
  std::unique_ptr<app::EmbeddedServer> app_;
  std::unique_ptr<httplib::Client> client_;
};

InvoiceSpec Spec(const std::string& id, const std::string& tenant, int64_t created) {
  InvoiceSpec spec;
  spec.id = id;
  spec.tenant_id = tenant;
  spec.subscription = "sub_" + tenant;
  spec.customer = "cus_" + tenant;
  spec.number = "N-" + id;
  spec.created = created;
  return spec;
}

TEST_F(InvoicesJsonTest, TheOwnerSeesTheTenantsInvoicesNewestFirst) {
  InvoiceSpec march = Spec("in_march", "acme", 1'800'000'000);
  InvoiceSpec april = Spec("in_april", "acme", 1'802'592'000);
  april.period_start = 1'802'592'000;
  april.period_end = 1'805'184'000;
  april.amount_due = 9900;
  ASSERT_EQ(Post("evt_m_fin", "invoice.finalized", 50, march), "applied");
  InvoiceSpec march_paid = march;
  march_paid.status = "paid";
  march_paid.amount_paid = 4900;
  ASSERT_EQ(Post("evt_m_paid", "invoice.paid", 40, march_paid), "applied");
  ASSERT_EQ(Post("evt_a_fin", "invoice.finalized", 30, april), "applied");
  // A payment failure of March from before its payment, delivered last: March stays paid.
  ASSERT_EQ(Post("evt_m_failed", "invoice.payment_failed", 45, march), "applied");
  // Another tenant's invoice is not listed.
  ASSERT_EQ(Post("evt_other", "invoice.finalized", 20, Spec("in_other", "initech", 1'900'000'000)),
            "applied");

  auto res = GetInvoices(Token(auth::Role::kOwner, "acme"));
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const json body = json::parse(res->body);
  EXPECT_EQ(body["success"], true);
  EXPECT_TRUE(body["next_page_token"].is_null());
  ASSERT_EQ(body["invoices"].size(), 2u) << body.dump();
  const json& first = body["invoices"][0];
  EXPECT_EQ(first["id"], "in_april");
  EXPECT_EQ(first["number"], "N-in_april");
  EXPECT_EQ(first["status"], "open");
  EXPECT_EQ(first["amount_due"], 9900);
  EXPECT_EQ(first["amount_paid"], 0);
  EXPECT_EQ(first["currency"], "usd");
  EXPECT_EQ(first["period_start"], 1'802'592'000);
  EXPECT_EQ(first["period_end"], 1'805'184'000);
  EXPECT_EQ(first["created"], 1'802'592'000);
  EXPECT_EQ(first["hosted_invoice_url"], "https://invoice.stripe.com/i/acct_1/test_in_1");
  EXPECT_EQ(first["invoice_pdf"], "https://pay.stripe.com/invoice/acct_1/test_in_1/pdf");
  const json& second = body["invoices"][1];
  EXPECT_EQ(second["id"], "in_march");
  EXPECT_EQ(second["status"], "paid");
  EXPECT_EQ(second["amount_paid"], 4900);

  // Pages: one at a time, the token leads to the next.
  auto page = GetInvoices(Token(auth::Role::kMember, "acme"), "?page_size=1");
  ASSERT_TRUE(page);
  ASSERT_EQ(page->status, 200) << page->body;
  const json one = json::parse(page->body);
  ASSERT_EQ(one["invoices"].size(), 1u);
  EXPECT_EQ(one["invoices"][0]["id"], "in_april");
  ASSERT_TRUE(one["next_page_token"].is_string());
  auto next = GetInvoices(Token(auth::Role::kMember, "acme"),
                          "?page_size=1&page_token=" + one["next_page_token"].get<std::string>());
  ASSERT_TRUE(next);
  ASSERT_EQ(next->status, 200) << next->body;
  EXPECT_EQ(json::parse(next->body)["invoices"][0]["id"], "in_march");
}

TEST_F(InvoicesJsonTest, OtherTenantsAndBadPagesAreRefused) {
  ASSERT_EQ(Post("evt_1", "invoice.finalized", 10, Spec("in_1", "acme", 1'800'000'000)), "applied");
  // Over JSON a user's tenant is the token's: naming another one in the query changes nothing.
  auto own = GetInvoices(Token(auth::Role::kMember, "initech"), "?tenant_id=acme");
  ASSERT_TRUE(own);
  EXPECT_EQ(own->status, 200) << own->body;
  EXPECT_TRUE(json::parse(own->body)["invoices"].empty()) << own->body;
  // Asking the server directly for another tenant's invoices is refused.
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  context.AddMetadata("authorization", "Bearer " + Token(auth::Role::kMember, "initech"));
  v1::ListInvoicesRequest request;
  request.set_tenant_id("acme");
  v1::ListInvoicesResponse response;
  EXPECT_EQ(Stub()->ListInvoices(&context, request, &response).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(response.invoices_size(), 0);

  for (const std::string query : {"?page_token=nonsense", "?page_size=-1", "?page_size=ten"}) {
    auto bad = GetInvoices(Token(auth::Role::kOwner, "acme"), query);
    ASSERT_TRUE(bad);
    EXPECT_EQ(bad->status, 400) << query;
    EXPECT_EQ(json::parse(bad->body)["error"]["code"], "invalid_argument") << query;
  }
  auto anonymous = client_->Get("/api/billing/invoices");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
}

TEST_F(InvoicesJsonTest, AServiceListsInvoicesOverGrpc) {
  InvoiceSpec spec = Spec("in_1", "acme", 1'800'000'000);
  spec.status = "paid";
  spec.amount_paid = 4900;
  ASSERT_EQ(Post("evt_paid", "invoice.paid", 10, spec), "applied");
  InvoiceSpec older = spec;
  older.status = "open";
  older.amount_paid = 0;
  ASSERT_EQ(Post("evt_fin", "invoice.finalized", 20, older), "stale");

  auto stub = Stub();
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  context.AddMetadata("authorization", "Bearer " + Token(auth::Role::kService, "*"));
  v1::ListInvoicesRequest request;
  request.set_tenant_id("acme");
  v1::ListInvoicesResponse response;
  const grpc::Status status = stub->ListInvoices(&context, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.invoices_size(), 1);
  const v1::Invoice& invoice = response.invoices(0);
  EXPECT_EQ(invoice.invoice_id(), "in_1");
  EXPECT_EQ(invoice.tenant_id(), "acme");
  EXPECT_EQ(invoice.status(), v1::INVOICE_STATUS_PAID);
  EXPECT_EQ(invoice.amount_paid(), 4900);
  EXPECT_EQ(invoice.stripe_subscription_id(), "sub_acme");
  EXPECT_EQ(invoice.stripe_customer_id(), "cus_acme");
  EXPECT_EQ(invoice.period_end().seconds(), 1'802'592'000);
  EXPECT_TRUE(response.next_page_token().empty());

  // A service token with the tenant in the query reads the same over JSON.
  auto res = GetInvoices(Token(auth::Role::kService, "*"), "?tenant_id=acme");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(json::parse(res->body)["invoices"][0]["status"], "paid");
}

}  // namespace
}  // namespace paybell

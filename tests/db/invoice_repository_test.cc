// billing_invoices on SQLite and PostgreSQL: the conditional write that lets the newest event
// win, and a tenant's invoices paged newest first.
#include "db/invoice_repository.h"

#include <gtest/gtest.h>

#include "db/migrations.h"
#include "db/soci_database.h"
#include "tests/support/db_backends.h"

namespace paybell::db {
namespace {

using domain::Invoice;
using domain::InvoiceStatus;
using testing::EngineNames;
using testing::Engines;
using testing::EngineTest;

Invoice Open(const std::string& id, const std::string& tenant, int64_t created) {
  Invoice i;
  i.invoice_id = id;
  i.tenant_id = tenant;
  i.stripe_customer_id = "cus_" + tenant;
  i.stripe_subscription_id = "sub_" + tenant;
  i.number = "N-" + id;
  i.status = InvoiceStatus::kOpen;
  i.amount_due = 4900;
  i.currency = "usd";
  i.period_start = 1'800'000'000;
  i.period_end = 1'802'592'000;
  i.created = created;
  i.hosted_invoice_url = "https://invoice.stripe.com/i/" + id;
  i.invoice_pdf = "https://pay.stripe.com/invoice/" + id + "/pdf";
  i.last_event_created = 100;
  i.last_event_id = "evt_b";
  i.updated_at = 1'800'000'500;
  return i;
}

template <typename Engine>
class InvoiceRepositoryTest : public EngineTest<Engine> {
 protected:
  void SetUp() override {
    EngineTest<Engine>::SetUp();
    if (this->IsSkipped() || this->HasFatalFailure()) return;
    db_ = std::make_unique<SociDatabase>(this->database_->parsed(), 2);
    ApplyMigrations(db_->pool(), BuiltinMigrations(), 1'800'000'000);
  }
  bool Upsert(const Invoice& invoice) {
    bool written = false;
    db_->Transact("upsert", [&](UnitOfWork& unit) {
      written = unit.invoices().UpsertIfNewer(invoice);
      unit.Commit();
    });
    return written;
  }
  std::optional<Invoice> Find(const std::string& id) {
    std::optional<Invoice> found;
    db_->Read("find", [&](UnitOfWork& unit) { found = unit.invoices().Find(id); });
    return found;
  }
  std::vector<std::string> Ids(const std::string& tenant, const std::optional<InvoiceCursor>& after,
                               int limit) {
    std::vector<std::string> ids;
    db_->Read("list", [&](UnitOfWork& unit) {
      for (const Invoice& i : unit.invoices().ListForTenant(tenant, after, limit)) {
        ids.push_back(i.invoice_id);
      }
    });
    return ids;
  }
  std::unique_ptr<SociDatabase> db_;
};
TYPED_TEST_SUITE(InvoiceRepositoryTest, Engines, EngineNames);

TYPED_TEST(InvoiceRepositoryTest, RoundTripsEveryField) {
  Invoice draft = Open("in_1", "acme", 1'800'000'000);
  draft.status = InvoiceStatus::kDraft;
  draft.number = "";
  draft.period_start = std::nullopt;
  draft.period_end = std::nullopt;
  draft.hosted_invoice_url = "";
  EXPECT_TRUE(this->Upsert(draft));
  EXPECT_EQ(this->Find("in_1"), draft);
  EXPECT_FALSE(this->Find("in_2").has_value());
}

TYPED_TEST(InvoiceRepositoryTest, TheNewestEventWins) {
  Invoice paid = Open("in_1", "acme", 1'800'000'000);
  paid.status = InvoiceStatus::kPaid;
  paid.amount_paid = 4900;
  paid.last_event_created = 200;
  paid.last_event_id = "evt_paid";
  ASSERT_TRUE(this->Upsert(paid));

  // An older event (a payment failure Stripe delivered late) changes nothing.
  Invoice failed = Open("in_1", "acme", 1'800'000'000);
  failed.last_event_created = 150;
  failed.last_event_id = "evt_zzz";  // a greater id does not outweigh an older time
  EXPECT_FALSE(this->Upsert(failed));
  EXPECT_EQ(this->Find("in_1"), paid);

  // The same event again changes nothing either.
  EXPECT_FALSE(this->Upsert(paid));

  // A newer one is written.
  Invoice voided = paid;
  voided.status = InvoiceStatus::kVoid;
  voided.last_event_created = 300;
  voided.last_event_id = "evt_void";
  voided.updated_at = 1'800'000'900;
  EXPECT_TRUE(this->Upsert(voided));
  EXPECT_EQ(this->Find("in_1"), voided);
}

// Stripe's `created` has one-second resolution: events of the same second are ordered by id, so
// every replica and every delivery order ends with the same row.
TYPED_TEST(InvoiceRepositoryTest, ASameSecondTieIsBrokenByEventId) {
  Invoice a = Open("in_1", "acme", 1'800'000'000);
  a.last_event_id = "evt_a";
  Invoice b = a;
  b.status = InvoiceStatus::kPaid;
  b.last_event_id = "evt_b";
  ASSERT_TRUE(this->Upsert(b));
  EXPECT_FALSE(this->Upsert(a));
  EXPECT_EQ(this->Find("in_1")->status, InvoiceStatus::kPaid);

  Invoice c = Open("in_2", "acme", 1'800'000'000);
  c.last_event_id = "evt_a";
  Invoice d = c;
  d.status = InvoiceStatus::kPaid;
  d.last_event_id = "evt_b";
  ASSERT_TRUE(this->Upsert(c));
  EXPECT_TRUE(this->Upsert(d));
  EXPECT_EQ(this->Find("in_2")->status, InvoiceStatus::kPaid);
}

TYPED_TEST(InvoiceRepositoryTest, ListsOneTenantNewestFirstInPages) {
  // Two invoices share a `created` second: the id orders them.
  this->Upsert(Open("in_a", "acme", 1'800'000'100));
  this->Upsert(Open("in_b", "acme", 1'800'000'300));
  this->Upsert(Open("in_c", "acme", 1'800'000'200));
  this->Upsert(Open("in_d", "acme", 1'800'000'200));
  this->Upsert(Open("in_x", "initech", 1'800'000'400));

  EXPECT_EQ(this->Ids("acme", std::nullopt, 10),
            (std::vector<std::string>{"in_b", "in_d", "in_c", "in_a"}));
  EXPECT_EQ(this->Ids("acme", std::nullopt, 2), (std::vector<std::string>{"in_b", "in_d"}));
  EXPECT_EQ(this->Ids("acme", InvoiceCursor{1'800'000'200, "in_d"}, 2),
            (std::vector<std::string>{"in_c", "in_a"}));
  EXPECT_EQ(this->Ids("acme", InvoiceCursor{1'800'000'100, "in_a"}, 2), std::vector<std::string>{});
  EXPECT_EQ(this->Ids("initech", std::nullopt, 10), std::vector<std::string>{"in_x"});
  EXPECT_EQ(this->Ids("nobody", std::nullopt, 10), std::vector<std::string>{});
}

}  // namespace
}  // namespace paybell::db

#include "db/invoice_repository.h"

#include <stdexcept>
#include <string_view>

#include "db/row_access.h"
#include "db/soci_repositories.h"

namespace paybell::db {
namespace {

constexpr std::string_view kColumns = R"sql(
  invoice_id, tenant_id, stripe_customer_id, stripe_subscription_id, number, status, amount_due,
  amount_paid, currency, period_start, period_end, created, hosted_invoice_url, invoice_pdf,
  last_event_created, last_event_id, updated_at)sql";

const std::string kFind =
    "SELECT" + std::string(kColumns) + " FROM billing_invoices WHERE invoice_id = :invoice_id";

// Newest first by (created, invoice_id); the cursor is the last row of the previous page.
const std::string kListForTenant = "SELECT" + std::string(kColumns) + R"sql(
FROM billing_invoices
WHERE tenant_id = :tenant_id
  AND (:cursor_any = 1 OR created < :cursor_created
       OR (created = :cursor_created2 AND invoice_id < :cursor_id))
ORDER BY created DESC, invoice_id DESC
LIMIT :limit)sql";

// One statement, so two transactions recording events of the same invoice cannot interleave a
// read and a write: the row is written only when the stored one comes from an older event
// (Stripe's "created", then the event id for events of the same second).
constexpr std::string_view kUpsertIfNewer = R"sql(
INSERT INTO billing_invoices (
  invoice_id, tenant_id, stripe_customer_id, stripe_subscription_id, number, status, amount_due,
  amount_paid, currency, period_start, period_end, created, hosted_invoice_url, invoice_pdf,
  last_event_created, last_event_id, updated_at)
VALUES (:invoice_id, :tenant_id, :customer, :subscription, :number, :status, :amount_due,
  :amount_paid, :currency, :period_start, :period_end, :created, :hosted_invoice_url,
  :invoice_pdf, :last_event_created, :last_event_id, :updated_at)
ON CONFLICT (invoice_id) DO UPDATE SET
  tenant_id = excluded.tenant_id,
  stripe_customer_id = excluded.stripe_customer_id,
  stripe_subscription_id = excluded.stripe_subscription_id,
  number = excluded.number,
  status = excluded.status,
  amount_due = excluded.amount_due,
  amount_paid = excluded.amount_paid,
  currency = excluded.currency,
  period_start = excluded.period_start,
  period_end = excluded.period_end,
  created = excluded.created,
  hosted_invoice_url = excluded.hosted_invoice_url,
  invoice_pdf = excluded.invoice_pdf,
  last_event_created = excluded.last_event_created,
  last_event_id = excluded.last_event_id,
  updated_at = excluded.updated_at
WHERE billing_invoices.last_event_created < excluded.last_event_created
   OR (billing_invoices.last_event_created = excluded.last_event_created
       AND billing_invoices.last_event_id < excluded.last_event_id))sql";

domain::Invoice FromRow(const soci::row& row) {
  domain::Invoice i;
  i.invoice_id = GetString(row, "invoice_id");
  i.tenant_id = GetString(row, "tenant_id");
  i.stripe_customer_id = GetString(row, "stripe_customer_id");
  i.stripe_subscription_id = GetString(row, "stripe_subscription_id");
  i.number = GetString(row, "number");
  const std::string status = GetString(row, "status");
  const auto parsed = domain::ParseInvoiceStatus(status);
  if (!parsed) {
    // The table's CHECK constraint makes this a corrupted row, not input.
    throw std::runtime_error("billing_invoices row " + i.invoice_id + " has status '" + status +
                             "'");
  }
  i.status = *parsed;
  i.amount_due = GetInt(row, "amount_due");
  i.amount_paid = GetInt(row, "amount_paid");
  i.currency = GetString(row, "currency");
  i.period_start = GetOptionalInt(row, "period_start");
  i.period_end = GetOptionalInt(row, "period_end");
  i.created = GetInt(row, "created");
  i.hosted_invoice_url = GetString(row, "hosted_invoice_url");
  i.invoice_pdf = GetString(row, "invoice_pdf");
  i.last_event_created = GetInt(row, "last_event_created");
  i.last_event_id = GetString(row, "last_event_id");
  i.updated_at = GetInt(row, "updated_at");
  return i;
}

}  // namespace

// The values the prepared statements bind; soci::use keeps references to them.
struct SociInvoiceRepository::Bound {
  std::string invoice_id, tenant_id, customer, subscription, number, status, currency,
      hosted_invoice_url, invoice_pdf, last_event_id;
  long long amount_due = 0, amount_paid = 0, created = 0, last_event_created = 0, updated_at = 0;
  NullableInt period_start{std::nullopt}, period_end{std::nullopt};
  // ListForTenant
  int cursor_any = 1, limit = 0;
  long long cursor_created = 0;
  std::string cursor_id;
};

SociInvoiceRepository::SociInvoiceRepository(soci::session& session)
    : session_(session), bound_(std::make_unique<Bound>()) {}

SociInvoiceRepository::~SociInvoiceRepository() = default;

std::optional<domain::Invoice> SociInvoiceRepository::Find(const std::string& invoice_id) {
  Bound& v = *bound_;
  v.invoice_id = invoice_id;
  std::optional<domain::Invoice> found;
  find_.QueryOne(
      session_,
      [&](soci::session& s) {
        return (s.prepare << kFind, soci::use(v.invoice_id), soci::into(find_.row()));
      },
      [&] { found = FromRow(find_.row()); });
  return found;
}

bool SociInvoiceRepository::UpsertIfNewer(const domain::Invoice& i) {
  Bound& v = *bound_;
  v.invoice_id = i.invoice_id;
  v.tenant_id = i.tenant_id;
  v.customer = i.stripe_customer_id;
  v.subscription = i.stripe_subscription_id;
  v.number = i.number;
  v.status = std::string(domain::InvoiceStatusWord(i.status));
  v.amount_due = i.amount_due;
  v.amount_paid = i.amount_paid;
  v.currency = i.currency;
  v.period_start = NullableInt(i.period_start);
  v.period_end = NullableInt(i.period_end);
  v.created = i.created;
  v.hosted_invoice_url = i.hosted_invoice_url;
  v.invoice_pdf = i.invoice_pdf;
  v.last_event_created = i.last_event_created;
  v.last_event_id = i.last_event_id;
  v.updated_at = i.updated_at;
  // Both engines count an upsert whose WHERE refused the update as 0 rows.
  return upsert_.Execute(session_, [&](soci::session& s) {
    return (s.prepare << kUpsertIfNewer, soci::use(v.invoice_id), soci::use(v.tenant_id),
            soci::use(v.customer), soci::use(v.subscription), soci::use(v.number),
            soci::use(v.status), soci::use(v.amount_due), soci::use(v.amount_paid),
            soci::use(v.currency), soci::use(v.period_start.value, v.period_start.indicator),
            soci::use(v.period_end.value, v.period_end.indicator), soci::use(v.created),
            soci::use(v.hosted_invoice_url), soci::use(v.invoice_pdf),
            soci::use(v.last_event_created), soci::use(v.last_event_id), soci::use(v.updated_at));
  }) == 1;
}

std::vector<domain::Invoice> SociInvoiceRepository::ListForTenant(
    const std::string& tenant_id, const std::optional<InvoiceCursor>& after, int limit) {
  Bound& v = *bound_;
  v.tenant_id = tenant_id;
  v.cursor_any = after ? 0 : 1;
  v.cursor_created = after ? after->created : 0;
  v.cursor_id = after ? after->invoice_id : "";
  v.limit = limit;
  std::vector<domain::Invoice> out;
  list_.QueryAll(
      session_,
      [&](soci::session& s) {
        return (s.prepare << kListForTenant, soci::use(v.tenant_id), soci::use(v.cursor_any),
                soci::use(v.cursor_created), soci::use(v.cursor_created), soci::use(v.cursor_id),
                soci::use(v.limit), soci::into(list_.row()));
      },
      [&] { out.push_back(FromRow(list_.row())); });
  return out;
}

void SociInvoiceRepository::ForgetServerStatements(bool postgres) {
  for (PreparedStatement* p : {&find_, &upsert_, &list_}) p->ForgetOnServer(postgres);
}

}  // namespace paybell::db

#include "server/domain/invoice.h"

#include <tuple>
#include <utility>

#include "server/domain/words.h"

namespace paybell::domain {
namespace {

constexpr std::pair<InvoiceStatus, std::string_view> kInvoiceStatusWords[] = {
    {InvoiceStatus::kDraft, "draft"}, {InvoiceStatus::kOpen, "open"},
    {InvoiceStatus::kPaid, "paid"},   {InvoiceStatus::kUncollectible, "uncollectible"},
    {InvoiceStatus::kVoid, "void"},
};

}  // namespace

std::string_view InvoiceStatusWord(InvoiceStatus status) {
  return WordOf(kInvoiceStatusWords, status);
}

std::optional<InvoiceStatus> ParseInvoiceStatus(std::string_view word) {
  return FromWord(kInvoiceStatusWords, word);
}

bool Invoice::operator==(const Invoice& o) const {
  auto fields = [](const Invoice& i) {
    return std::tie(i.invoice_id, i.tenant_id, i.stripe_customer_id, i.stripe_subscription_id,
                    i.number, i.status, i.amount_due, i.amount_paid, i.currency, i.period_start,
                    i.period_end, i.created, i.hosted_invoice_url, i.invoice_pdf,
                    i.last_event_created, i.last_event_id, i.updated_at);
  };
  return fields(*this) == fields(o);
}

}  // namespace paybell::domain

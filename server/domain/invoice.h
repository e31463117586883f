// A summary of one Stripe invoice (one billing_invoices row), kept so tenants can see what they
// were billed: written from invoice.* events, newest event wins.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace paybell::domain {

// Stripe's invoice statuses, stored as the lowercase word.
enum class InvoiceStatus { kDraft, kOpen, kPaid, kUncollectible, kVoid };

std::string_view InvoiceStatusWord(InvoiceStatus status);
std::optional<InvoiceStatus> ParseInvoiceStatus(std::string_view word);

struct Invoice {
  std::string invoice_id;  // "in_…"
  std::string tenant_id;
  std::string stripe_customer_id;
  std::string stripe_subscription_id;
  std::string number;  // empty for a draft
  InvoiceStatus status = InvoiceStatus::kOpen;
  int64_t amount_due = 0;  // minor units
  int64_t amount_paid = 0;
  std::string currency;  // "usd"
  std::optional<int64_t> period_start;
  std::optional<int64_t> period_end;
  int64_t created = 0;  // Stripe's "created" of the invoice
  std::string hosted_invoice_url;
  std::string invoice_pdf;
  int64_t last_event_created = 0;  // Stripe "created" of the event this row is from
  std::string last_event_id;
  int64_t updated_at = 0;

  bool operator==(const Invoice& other) const;
  bool operator!=(const Invoice& other) const { return !(*this == other); }
};

}  // namespace paybell::domain

// Reading Stripe event payloads: the envelope, and the facts Paybell needs from each handled
// type, in both the current and the older API shapes.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace paybell::webhooks {

// The subscription state an event carries (subscription events only).
struct SubscriptionState {
  std::string status;  // Stripe's word
  std::string price_id;
  std::optional<int64_t> current_period_start;
  std::optional<int64_t> current_period_end;
  bool cancel_at_period_end = false;
  std::optional<int64_t> cancel_at;
  std::optional<int64_t> canceled_at;
  std::optional<int64_t> trial_end;
};

enum class EventKind {
  kCheckoutCompleted,             // checkout.session.completed: links customer and subscription
  kSubscriptionChange,            // customer.subscription.*: carries the subscription's state
  kInvoicePaymentFailed,          // invoice.payment_failed
  kInvoicePaymentActionRequired,  // invoice.payment_action_required (e.g. 3-D Secure)
  kInvoicePaid,                   // invoice.paid
  kInvoiceFinalized,              // invoice.finalized: only recorded in billing_invoices
  kInvoiceVoided,                 // invoice.voided: only recorded in billing_invoices
  kUnhandled,                     // stored as "ignored"
};

// The invoice an invoice.* event carries: what a notification links and says, and the summary
// stored in billing_invoices. Strings are bounded when parsed; the status word is checked when
// the event is applied (an unknown one fails the event, as for subscriptions).
struct InvoiceFacts {
  std::string id;           // "in_…"
  std::string number;       // "ABCD-0001"; empty for a draft
  std::string status;       // Stripe's word: draft, open, paid, uncollectible, void
  int64_t amount_due = 0;   // minor units
  int64_t amount_paid = 0;  // minor units
  std::string currency;     // Stripe's lowercase ISO code
  // The service period billed: the span of the lines' periods, else the invoice's own
  // period_start/period_end.
  std::optional<int64_t> period_start;
  std::optional<int64_t> period_end;
  std::optional<int64_t> created;  // the invoice's, not the event's
  std::string hosted_invoice_url;  // where the customer pays or confirms
  std::string invoice_pdf;
};

struct StripeEvent {
  std::string id;
  std::string type;
  int64_t created = 0;
  bool livemode = false;
  EventKind kind = EventKind::kUnhandled;

  // Tenant hints, strongest first: metadata.tenant_id, then client_reference_id.
  std::string metadata_tenant_id;
  std::string client_reference_id;
  std::string metadata_plan;  // metadata.plan, when the checkout put it there
  std::string customer_id;
  std::string subscription_id;
  std::string checkout_session_id;         // checkout.session.completed only
  std::optional<SubscriptionState> state;  // kSubscriptionChange only
  std::optional<InvoiceFacts> invoice;     // invoice kinds only
};

// Thrown for a payload that is not a Stripe event (not JSON, no id/type/created): the delivery
// is refused with 400 and nothing is stored.
class MalformedEvent : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Parses the envelope; throws MalformedEvent. A handled type whose object lacks what Paybell
// needs still parses: the missing parts stay empty, and applying it records why. Values no
// real Stripe object holds (an invoice string over its bound, a negative amount) are
// MalformedEvent too, like an over-long event id.
StripeEvent ParseStripeEvent(std::string_view payload);

// Refuses (MalformedEvent) times no real event carries: `created` not after the epoch or later
// than `now` plus the signature tolerance (a far-future `created` would make every later real
// event stale), and any time outside what google.protobuf.Timestamp can hold (clients could
// not decode it), on the subscription or the invoice the event carries.
void ValidateEventTimes(const StripeEvent& event, int64_t now, int64_t tolerance_s);

EventKind KindOfType(std::string_view type);

// Every event type Paybell handles (KindOfType is not kUnhandled): what catch-up asks Stripe
// for (GET /v1/events types[]; Stripe accepts up to 20).
const std::vector<std::string>& HandledEventTypes();

}  // namespace paybell::webhooks

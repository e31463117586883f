#include "tests/support/stripe_event_reference.h"

#include <nlohmann/json.hpp>
#include <string>
#include <tuple>

// A verbatim copy of server/webhooks/stripe_event.cc's ParseStripeEvent as it was before the
// streaming scanner (nlohmann::json's DOM); do not "fix" it: it is the oracle.
namespace paybell::testing {
namespace {

using nlohmann::json;
using webhooks::EventKind;
using webhooks::InvoiceFacts;
using webhooks::KindOfType;
using webhooks::MalformedEvent;
using webhooks::StripeEvent;
using webhooks::SubscriptionState;

std::string StringAt(const json& object, std::string_view key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

// An id field that Stripe sends either as "sub_…" or, when expanded, as an object with an id.
std::string IdAt(const json& object, std::string_view key) {
  auto it = object.find(key);
  if (it == object.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object()) return StringAt(*it, "id");
  return "";
}

std::optional<int64_t> TimeAt(const json& object, std::string_view key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<int64_t>();
}

const json& ObjectAt(const json& object, std::string_view key) {
  static const json kEmpty = json::object();
  auto it = object.find(key);
  return it != object.end() && it->is_object() ? *it : kEmpty;
}

const json& FirstItem(const json& subscription) {
  static const json kEmpty = json::object();
  const json& items = ObjectAt(subscription, "items");
  auto data = items.find("data");
  if (data == items.end() || !data->is_array() || data->empty() || !(*data)[0].is_object()) {
    return kEmpty;
  }
  return (*data)[0];
}

// Bounds of the invoice strings Paybell stores: Stripe's ids and numbers are short, its hosted
// and PDF links a few hundred bytes.
constexpr size_t kMaxInvoiceIdBytes = 255;
constexpr size_t kMaxInvoiceWordBytes = 64;  // number, status, currency
constexpr size_t kMaxInvoiceUrlBytes = 2048;

std::string BoundedStringAt(const json& object, std::string_view key, size_t max_bytes) {
  std::string value = StringAt(object, key);
  if (value.size() > max_bytes) {
    throw MalformedEvent("invoice \"" + std::string(key) + "\" is over " +
                         std::to_string(max_bytes) + " bytes");
  }
  return value;
}

int64_t AmountAt(const json& object, std::string_view key) {
  const auto amount = TimeAt(object, key);  // an integer, like a time
  if (amount && *amount < 0) {
    throw MalformedEvent("invoice \"" + std::string(key) + "\" is negative");
  }
  return amount.value_or(0);
}

// The service period an invoice bills is on its lines (a renewal's own period_start/period_end
// are the period that just ended, in which usage was collected); the invoice's fields are the
// fallback for an invoice whose lines were not sent.
void ReadInvoicePeriod(const json& invoice, InvoiceFacts& facts) {
  const json& lines = ObjectAt(invoice, "lines");
  auto data = lines.find("data");
  if (data != lines.end() && data->is_array()) {
    for (const json& line : *data) {
      if (!line.is_object()) continue;
      const json& period = ObjectAt(line, "period");
      const auto start = TimeAt(period, "start");
      const auto end = TimeAt(period, "end");
      if (start && (!facts.period_start || *start < *facts.period_start)) {
        facts.period_start = start;
      }
      if (end && (!facts.period_end || *end > *facts.period_end)) facts.period_end = end;
    }
  }
  if (!facts.period_start && !facts.period_end) {
    facts.period_start = TimeAt(invoice, "period_start");
    facts.period_end = TimeAt(invoice, "period_end");
  }
}

InvoiceFacts ReadInvoice(const json& object) {
  InvoiceFacts invoice;
  invoice.id = BoundedStringAt(object, "id", kMaxInvoiceIdBytes);
  invoice.number = BoundedStringAt(object, "number", kMaxInvoiceWordBytes);
  invoice.status = BoundedStringAt(object, "status", kMaxInvoiceWordBytes);
  invoice.amount_due = AmountAt(object, "amount_due");
  invoice.amount_paid = AmountAt(object, "amount_paid");
  invoice.currency = BoundedStringAt(object, "currency", kMaxInvoiceWordBytes);
  ReadInvoicePeriod(object, invoice);
  invoice.created = TimeAt(object, "created");
  invoice.hosted_invoice_url = BoundedStringAt(object, "hosted_invoice_url", kMaxInvoiceUrlBytes);
  invoice.invoice_pdf = BoundedStringAt(object, "invoice_pdf", kMaxInvoiceUrlBytes);
  return invoice;
}

SubscriptionState ReadSubscription(const json& sub) {
  SubscriptionState s;
  s.status = StringAt(sub, "status");
  const json& item = FirstItem(sub);
  // Current API: price on the item; older: the item's (or the subscription's) legacy plan.
  s.price_id = IdAt(item, "price");
  if (s.price_id.empty()) s.price_id = IdAt(item, "plan");
  if (s.price_id.empty()) s.price_id = IdAt(sub, "plan");
  // Current API: periods on each item; older API versions: on the subscription.
  s.current_period_start = TimeAt(item, "current_period_start");
  s.current_period_end = TimeAt(item, "current_period_end");
  if (!s.current_period_start) s.current_period_start = TimeAt(sub, "current_period_start");
  if (!s.current_period_end) s.current_period_end = TimeAt(sub, "current_period_end");
  auto cancel = sub.find("cancel_at_period_end");
  s.cancel_at_period_end = cancel != sub.end() && cancel->is_boolean() && cancel->get<bool>();
  s.cancel_at = TimeAt(sub, "cancel_at");
  s.canceled_at = TimeAt(sub, "canceled_at");
  s.trial_end = TimeAt(sub, "trial_end");
  return s;
}

auto Fields(const SubscriptionState& s) {
  return std::tie(s.status, s.price_id, s.current_period_start, s.current_period_end,
                  s.cancel_at_period_end, s.cancel_at, s.canceled_at, s.trial_end);
}

auto Fields(const InvoiceFacts& i) {
  return std::tie(i.id, i.number, i.status, i.amount_due, i.amount_paid, i.currency, i.period_start,
                  i.period_end, i.created, i.hosted_invoice_url, i.invoice_pdf);
}

}  // namespace

StripeEvent ParseStripeEventReference(std::string_view payload) {
  const json root = json::parse(payload.begin(), payload.end(), nullptr, false);
  if (root.is_discarded() || !root.is_object()) throw MalformedEvent("body is not a JSON object");
  StripeEvent e;
  e.id = StringAt(root, "id");
  e.type = StringAt(root, "type");
  const auto created = TimeAt(root, "created");
  if (e.id.empty() || e.id.size() > 255) throw MalformedEvent("event has no valid \"id\"");
  if (e.type.empty() || e.type.size() > 255) throw MalformedEvent("event has no \"type\"");
  if (!created) throw MalformedEvent("event has no \"created\" time");
  e.created = *created;
  auto livemode = root.find("livemode");
  e.livemode = livemode != root.end() && livemode->is_boolean() && livemode->get<bool>();
  e.kind = KindOfType(e.type);

  const json& object = ObjectAt(ObjectAt(root, "data"), "object");
  const json& metadata = ObjectAt(object, "metadata");
  e.metadata_tenant_id = StringAt(metadata, "tenant_id");
  e.metadata_plan = StringAt(metadata, "plan");
  e.customer_id = IdAt(object, "customer");

  switch (e.kind) {
    case EventKind::kCheckoutCompleted:
      e.checkout_session_id = StringAt(object, "id");
      e.client_reference_id = StringAt(object, "client_reference_id");
      e.subscription_id = IdAt(object, "subscription");
      break;
    case EventKind::kSubscriptionChange:
      e.subscription_id = StringAt(object, "id");
      e.state = ReadSubscription(object);
      break;
    case EventKind::kInvoicePaymentFailed:
    case EventKind::kInvoicePaymentActionRequired:
    case EventKind::kInvoicePaid:
    case EventKind::kInvoiceFinalized:
    case EventKind::kInvoiceVoided: {
      e.invoice = ReadInvoice(object);
      // Current API: parent.subscription_details; older: invoice.subscription.
      const json& details = ObjectAt(ObjectAt(object, "parent"), "subscription_details");
      e.subscription_id = IdAt(details, "subscription");
      if (e.subscription_id.empty()) e.subscription_id = IdAt(object, "subscription");
      const json& sub_metadata = ObjectAt(details, "metadata");
      if (e.metadata_tenant_id.empty()) e.metadata_tenant_id = StringAt(sub_metadata, "tenant_id");
      if (e.metadata_tenant_id.empty()) {
        // Older API versions copied the subscription's metadata to invoice.subscription_details.
        e.metadata_tenant_id =
            StringAt(ObjectAt(ObjectAt(object, "subscription_details"), "metadata"), "tenant_id");
      }
      break;
    }
    case EventKind::kUnhandled:
      break;
  }
  return e;
}

bool SameEvent(const StripeEvent& a, const StripeEvent& b) {
  if (std::tie(a.id, a.type, a.created, a.livemode, a.kind, a.metadata_tenant_id,
               a.client_reference_id, a.metadata_plan, a.customer_id, a.subscription_id,
               a.checkout_session_id) != std::tie(b.id, b.type, b.created, b.livemode, b.kind,
                                                  b.metadata_tenant_id, b.client_reference_id,
                                                  b.metadata_plan, b.customer_id, b.subscription_id,
                                                  b.checkout_session_id)) {
    return false;
  }
  if (a.state.has_value() != b.state.has_value()) return false;
  if (a.state && Fields(*a.state) != Fields(*b.state)) return false;
  if (a.invoice.has_value() != b.invoice.has_value()) return false;
  return !a.invoice || Fields(*a.invoice) == Fields(*b.invoice);
}

}  // namespace paybell::testing

#include "server/webhooks/stripe_event.h"

#include <array>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "server/webhooks/json_scanner.h"

// The payload is scanned once, without building a DOM (server/webhooks/json_scanner.h says
// what it accepts): only the values at the paths below are recorded, as spans of the payload,
// and only the strings Paybell keeps are copied out. The results and refusals are those of the
// nlohmann::json DOM this replaced (tests/support/stripe_event_reference.cc, checked by
// tests/unit/stripe_event_differential_test.cc).
namespace paybell::webhooks {
namespace {

// Every value ParseStripeEvent reads, in the order of the outline in EventPaths().
enum Path : size_t {
  kRoot,
  kId,
  kType,
  kCreated,
  kLivemode,
  kData,
  kObject,  // data.object; everything below is in it
  kObjectId,
  kMetadata,
  kMetadataTenantId,
  kMetadataPlan,
  kCustomer,
  kCustomerId,  // an expanded customer
  kClientReferenceId,
  kSubscription,
  kSubscriptionId,
  kStatus,
  kItems,
  kItemsData,
  kItem,  // items.data[0]
  kItemPrice,
  kItemPriceId,
  kItemPlan,
  kItemPlanId,
  kItemPeriodStart,
  kItemPeriodEnd,
  kPlan,
  kPlanId,
  kPeriodStart,
  kPeriodEnd,
  kCancelAtPeriodEnd,
  kCancelAt,
  kCanceledAt,
  kTrialEnd,
  kNumber,
  kAmountDue,
  kAmountPaid,
  kCurrency,
  kInvoiceCreated,
  kHostedInvoiceUrl,
  kInvoicePdf,
  kInvoicePeriodStart,
  kInvoicePeriodEnd,
  kLines,
  kLinesData,
  kLine,  // each of lines.data
  kLinePeriod,
  kLinePeriodStart,
  kLinePeriodEnd,
  kLinesEarliestStart,  // FoldLinePeriod's results
  kLinesLatestEnd,
  kParent,
  kParentDetails,
  kParentDetailsSubscription,
  kParentDetailsSubscriptionId,
  kParentDetailsMetadata,
  kParentDetailsTenantId,
  kDetails,
  kDetailsMetadata,
  kDetailsTenantId,
  kPathCount,
};

const JsonPaths& EventPaths() {
  struct Entry {
    Path path;
    JsonPathNode node;
  };
  constexpr JsonStep kKey = JsonStep::kMember;
  static const JsonPaths paths = [] {
    const Entry outline[] = {
        {kRoot, {0, JsonStep::kRoot, ""}},
        {kId, {1, kKey, "id"}},
        {kType, {1, kKey, "type"}},
        {kCreated, {1, kKey, "created"}},
        {kLivemode, {1, kKey, "livemode"}},
        {kData, {1, kKey, "data"}},
        {kObject, {2, kKey, "object"}},
        {kObjectId, {3, kKey, "id"}},
        {kMetadata, {3, kKey, "metadata"}},
        {kMetadataTenantId, {4, kKey, "tenant_id"}},
        {kMetadataPlan, {4, kKey, "plan"}},
        {kCustomer, {3, kKey, "customer"}},
        {kCustomerId, {4, kKey, "id"}},
        {kClientReferenceId, {3, kKey, "client_reference_id"}},
        {kSubscription, {3, kKey, "subscription"}},
        {kSubscriptionId, {4, kKey, "id"}},
        {kStatus, {3, kKey, "status"}},
        {kItems, {3, kKey, "items"}},
        {kItemsData, {4, kKey, "data"}},
        {kItem, {5, JsonStep::kFirstElement, ""}},
        {kItemPrice, {6, kKey, "price"}},
        {kItemPriceId, {7, kKey, "id"}},
        {kItemPlan, {6, kKey, "plan"}},
        {kItemPlanId, {7, kKey, "id"}},
        {kItemPeriodStart, {6, kKey, "current_period_start"}},
        {kItemPeriodEnd, {6, kKey, "current_period_end"}},
        {kPlan, {3, kKey, "plan"}},
        {kPlanId, {4, kKey, "id"}},
        {kPeriodStart, {3, kKey, "current_period_start"}},
        {kPeriodEnd, {3, kKey, "current_period_end"}},
        {kCancelAtPeriodEnd, {3, kKey, "cancel_at_period_end"}},
        {kCancelAt, {3, kKey, "cancel_at"}},
        {kCanceledAt, {3, kKey, "canceled_at"}},
        {kTrialEnd, {3, kKey, "trial_end"}},
        {kNumber, {3, kKey, "number"}},
        {kAmountDue, {3, kKey, "amount_due"}},
        {kAmountPaid, {3, kKey, "amount_paid"}},
        {kCurrency, {3, kKey, "currency"}},
        {kInvoiceCreated, {3, kKey, "created"}},
        {kHostedInvoiceUrl, {3, kKey, "hosted_invoice_url"}},
        {kInvoicePdf, {3, kKey, "invoice_pdf"}},
        {kInvoicePeriodStart, {3, kKey, "period_start"}},
        {kInvoicePeriodEnd, {3, kKey, "period_end"}},
        {kLines, {3, kKey, "lines"}},
        {kLinesData, {4, kKey, "data"}},
        {kLine, {5, JsonStep::kEachElement, ""}},
        {kLinePeriod, {6, kKey, "period"}},
        {kLinePeriodStart, {7, kKey, "start"}},
        {kLinePeriodEnd, {7, kKey, "end"}},
        {kLinesEarliestStart, {5, JsonStep::kScratch, ""}},
        {kLinesLatestEnd, {5, JsonStep::kScratch, ""}},
        {kParent, {3, kKey, "parent"}},
        {kParentDetails, {4, kKey, "subscription_details"}},
        {kParentDetailsSubscription, {5, kKey, "subscription"}},
        {kParentDetailsSubscriptionId, {6, kKey, "id"}},
        {kParentDetailsMetadata, {5, kKey, "metadata"}},
        {kParentDetailsTenantId, {6, kKey, "tenant_id"}},
        {kDetails, {3, kKey, "subscription_details"}},
        {kDetailsMetadata, {4, kKey, "metadata"}},
        {kDetailsTenantId, {5, kKey, "tenant_id"}},
    };
    std::vector<JsonPathNode> nodes;
    for (const Entry& entry : outline) {
      if (entry.path != nodes.size()) throw std::logic_error("EventPaths: out of Path order");
      nodes.push_back(entry.node);
    }
    if (nodes.size() != kPathCount) throw std::logic_error("EventPaths: a Path is missing");
    return JsonPaths(std::move(nodes));
  }();
  return paths;
}

// The billed period spans every line's period: after each line, keep its start if it is the
// earliest so far and its end if it is the latest (as spans, decoded again when compared).
void FoldLinePeriod(void* /*context*/, std::string_view text, size_t /*element*/,
                    JsonValue* values) {
  const auto start = JsonIntegerOf(text, values[kLinePeriodStart]);
  const auto earliest = JsonIntegerOf(text, values[kLinesEarliestStart]);
  if (start && (!earliest || *start < *earliest)) {
    values[kLinesEarliestStart] = values[kLinePeriodStart];
  }
  const auto end = JsonIntegerOf(text, values[kLinePeriodEnd]);
  const auto latest = JsonIntegerOf(text, values[kLinesLatestEnd]);
  if (end && (!latest || *end > *latest)) values[kLinesLatestEnd] = values[kLinePeriodEnd];
}

// Reads the recorded values with the DOM version's type rules: a string only if it is a
// string, a time or amount only if it is an integer (not a float, not a numeric string).
class Fields {
 public:
  Fields(std::string_view payload, const std::array<JsonValue, kPathCount>& values)
      : payload_(payload), values_(values) {}

  JsonType TypeAt(Path path) const { return values_[path].type; }
  std::string StringAt(Path path) const { return JsonStringOf(payload_, values_[path]); }
  std::optional<int64_t> TimeAt(Path path) const { return JsonIntegerOf(payload_, values_[path]); }
  bool TrueAt(Path path) const { return values_[path].type == JsonType::kTrue; }

  // An id field that Stripe sends either as "sub_…" or, when expanded, as an object with an id.
  std::string IdAt(Path path, Path expanded_id) const {
    if (TypeAt(path) == JsonType::kString) return StringAt(path);
    if (TypeAt(path) == JsonType::kObject) return StringAt(expanded_id);
    return "";
  }

 private:
  std::string_view payload_;
  const std::array<JsonValue, kPathCount>& values_;
};

// Bounds of the invoice strings Paybell stores: Stripe's ids and numbers are short, its hosted
// and PDF links a few hundred bytes.
constexpr size_t kMaxInvoiceIdBytes = 255;
constexpr size_t kMaxInvoiceWordBytes = 64;  // number, status, currency
constexpr size_t kMaxInvoiceUrlBytes = 2048;

std::string BoundedStringAt(const Fields& fields, Path path, const char* key, size_t max_bytes) {
  std::string value = fields.StringAt(path);
  if (value.size() > max_bytes) {
    throw MalformedEvent("invoice \"" + std::string(key) + "\" is over " +
                         std::to_string(max_bytes) + " bytes");
  }
  return value;
}

int64_t AmountAt(const Fields& fields, Path path, const char* key) {
  const auto amount = fields.TimeAt(path);  // an integer, like a time
  if (amount && *amount < 0) {
    throw MalformedEvent("invoice \"" + std::string(key) + "\" is negative");
  }
  return amount.value_or(0);
}

InvoiceFacts ReadInvoice(const Fields& fields) {
  InvoiceFacts invoice;
  invoice.id = BoundedStringAt(fields, kObjectId, "id", kMaxInvoiceIdBytes);
  invoice.number = BoundedStringAt(fields, kNumber, "number", kMaxInvoiceWordBytes);
  invoice.status = BoundedStringAt(fields, kStatus, "status", kMaxInvoiceWordBytes);
  invoice.amount_due = AmountAt(fields, kAmountDue, "amount_due");
  invoice.amount_paid = AmountAt(fields, kAmountPaid, "amount_paid");
  invoice.currency = BoundedStringAt(fields, kCurrency, "currency", kMaxInvoiceWordBytes);
  // The service period an invoice bills is on its lines (a renewal's own period_start/
  // period_end are the period that just ended, in which usage was collected); the invoice's
  // fields are the fallback for an invoice whose lines were not sent.
  invoice.period_start = fields.TimeAt(kLinesEarliestStart);
  invoice.period_end = fields.TimeAt(kLinesLatestEnd);
  if (!invoice.period_start && !invoice.period_end) {
    invoice.period_start = fields.TimeAt(kInvoicePeriodStart);
    invoice.period_end = fields.TimeAt(kInvoicePeriodEnd);
  }
  invoice.created = fields.TimeAt(kInvoiceCreated);
  invoice.hosted_invoice_url =
      BoundedStringAt(fields, kHostedInvoiceUrl, "hosted_invoice_url", kMaxInvoiceUrlBytes);
  invoice.invoice_pdf = BoundedStringAt(fields, kInvoicePdf, "invoice_pdf", kMaxInvoiceUrlBytes);
  return invoice;
}

SubscriptionState ReadSubscription(const Fields& fields) {
  SubscriptionState s;
  s.status = fields.StringAt(kStatus);
  // Current API: price on the first item; older: the item's (or the subscription's) legacy plan.
  s.price_id = fields.IdAt(kItemPrice, kItemPriceId);
  if (s.price_id.empty()) s.price_id = fields.IdAt(kItemPlan, kItemPlanId);
  if (s.price_id.empty()) s.price_id = fields.IdAt(kPlan, kPlanId);
  // Current API: periods on each item; older API versions: on the subscription.
  s.current_period_start = fields.TimeAt(kItemPeriodStart);
  s.current_period_end = fields.TimeAt(kItemPeriodEnd);
  if (!s.current_period_start) s.current_period_start = fields.TimeAt(kPeriodStart);
  if (!s.current_period_end) s.current_period_end = fields.TimeAt(kPeriodEnd);
  s.cancel_at_period_end = fields.TrueAt(kCancelAtPeriodEnd);
  s.cancel_at = fields.TimeAt(kCancelAt);
  s.canceled_at = fields.TimeAt(kCanceledAt);
  s.trial_end = fields.TimeAt(kTrialEnd);
  return s;
}

}  // namespace

EventKind KindOfType(std::string_view type) {
  if (type == "checkout.session.completed") return EventKind::kCheckoutCompleted;
  if (type == "customer.subscription.created" || type == "customer.subscription.updated" ||
      type == "customer.subscription.deleted" || type == "customer.subscription.paused" ||
      type == "customer.subscription.resumed" || type == "customer.subscription.trial_will_end") {
    return EventKind::kSubscriptionChange;
  }
  if (type == "invoice.payment_failed") return EventKind::kInvoicePaymentFailed;
  if (type == "invoice.payment_action_required") return EventKind::kInvoicePaymentActionRequired;
  if (type == "invoice.paid") return EventKind::kInvoicePaid;
  if (type == "invoice.finalized") return EventKind::kInvoiceFinalized;
  if (type == "invoice.voided") return EventKind::kInvoiceVoided;
  return EventKind::kUnhandled;
}

const std::vector<std::string>& HandledEventTypes() {
  static const std::vector<std::string> types = {
      "checkout.session.completed",
      "customer.subscription.created",
      "customer.subscription.updated",
      "customer.subscription.deleted",
      "customer.subscription.paused",
      "customer.subscription.resumed",
      "customer.subscription.trial_will_end",
      "invoice.payment_failed",
      "invoice.payment_action_required",
      "invoice.paid",
      "invoice.finalized",
      "invoice.voided",
  };
  return types;
}

void ValidateEventTimes(const StripeEvent& event, int64_t now, int64_t tolerance_s) {
  // google.protobuf.Timestamp: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z.
  constexpr int64_t kMaxTimestamp = 253'402'300'799;
  if (event.created <= 0 || event.created > now + tolerance_s) {
    throw MalformedEvent("created " + std::to_string(event.created) +
                         " is not a time Stripe could have sent");
  }
  auto check = [](const char* name, const std::optional<int64_t>& value) {
    if (value && (*value < 0 || *value > kMaxTimestamp)) {
      throw MalformedEvent(std::string(name) + " " + std::to_string(*value) + " is out of range");
    }
  };
  if (event.state) {
    const SubscriptionState& s = *event.state;
    check("current_period_start", s.current_period_start);
    check("current_period_end", s.current_period_end);
    check("cancel_at", s.cancel_at);
    check("canceled_at", s.canceled_at);
    check("trial_end", s.trial_end);
  }
  if (event.invoice) {
    check("invoice period_start", event.invoice->period_start);
    check("invoice period_end", event.invoice->period_end);
    check("invoice created", event.invoice->created);
  }
}

StripeEvent ParseStripeEvent(std::string_view payload) {
  std::array<JsonValue, kPathCount> values;
  if (!ScanJson(payload, EventPaths(), values.data(), &FoldLinePeriod) ||
      values[kRoot].type != JsonType::kObject) {
    throw MalformedEvent("body is not a JSON object");
  }
  const Fields fields(payload, values);
  StripeEvent e;
  e.id = fields.StringAt(kId);
  e.type = fields.StringAt(kType);
  const auto created = fields.TimeAt(kCreated);
  if (e.id.empty() || e.id.size() > 255) throw MalformedEvent("event has no valid \"id\"");
  if (e.type.empty() || e.type.size() > 255) throw MalformedEvent("event has no \"type\"");
  if (!created) throw MalformedEvent("event has no \"created\" time");
  e.created = *created;
  e.livemode = fields.TrueAt(kLivemode);
  e.kind = KindOfType(e.type);

  // Below data.object nothing is recorded unless data and data.object are objects.
  e.metadata_tenant_id = fields.StringAt(kMetadataTenantId);
  e.metadata_plan = fields.StringAt(kMetadataPlan);
  e.customer_id = fields.IdAt(kCustomer, kCustomerId);

  switch (e.kind) {
    case EventKind::kCheckoutCompleted:
      e.checkout_session_id = fields.StringAt(kObjectId);
      e.client_reference_id = fields.StringAt(kClientReferenceId);
      e.subscription_id = fields.IdAt(kSubscription, kSubscriptionId);
      break;
    case EventKind::kSubscriptionChange:
      e.subscription_id = fields.StringAt(kObjectId);
      e.state = ReadSubscription(fields);
      break;
    case EventKind::kInvoicePaymentFailed:
    case EventKind::kInvoicePaymentActionRequired:
    case EventKind::kInvoicePaid:
    case EventKind::kInvoiceFinalized:
    case EventKind::kInvoiceVoided:
      e.invoice = ReadInvoice(fields);
      // Current API: parent.subscription_details; older: invoice.subscription.
      e.subscription_id = fields.IdAt(kParentDetailsSubscription, kParentDetailsSubscriptionId);
      if (e.subscription_id.empty())
        e.subscription_id = fields.IdAt(kSubscription, kSubscriptionId);
      if (e.metadata_tenant_id.empty()) {
        e.metadata_tenant_id = fields.StringAt(kParentDetailsTenantId);
      }
      if (e.metadata_tenant_id.empty()) {
        // Older API versions copied the subscription's metadata to invoice.subscription_details.
        e.metadata_tenant_id = fields.StringAt(kDetailsTenantId);
      }
      break;
    case EventKind::kUnhandled:
      break;
  }
  return e;
}

}  // namespace paybell::webhooks

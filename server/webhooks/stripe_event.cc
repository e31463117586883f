#include "server/webhooks/stripe_event.h"

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <utility>

namespace paybell::webhooks {
namespace {

using nlohmann::json;

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
  return EventKind::kUnhandled;
}

void ValidateEventTimes(const StripeEvent& event, int64_t now, int64_t tolerance_s) {
  // google.protobuf.Timestamp: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z.
  constexpr int64_t kMaxTimestamp = 253'402'300'799;
  if (event.created <= 0 || event.created > now + tolerance_s) {
    throw MalformedEvent("created " + std::to_string(event.created) +
                         " is not a time Stripe could have sent");
  }
  if (!event.state) return;
  const SubscriptionState& s = *event.state;
  for (const auto& [name, value] :
       {std::pair{"current_period_start", s.current_period_start},
        std::pair{"current_period_end", s.current_period_end}, std::pair{"cancel_at", s.cancel_at},
        std::pair{"canceled_at", s.canceled_at}, std::pair{"trial_end", s.trial_end}}) {
    if (value && (*value < 0 || *value > kMaxTimestamp)) {
      throw MalformedEvent(std::string(name) + " " + std::to_string(*value) + " is out of range");
    }
  }
}

StripeEvent ParseStripeEvent(std::string_view payload) {
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
    case EventKind::kInvoicePaid: {
      InvoiceFacts invoice;
      invoice.id = StringAt(object, "id");
      invoice.hosted_invoice_url = StringAt(object, "hosted_invoice_url");
      invoice.currency = StringAt(object, "currency");
      auto amount = object.find("amount_due");
      if (amount != object.end() && amount->is_number_integer()) {
        invoice.amount_due = amount->get<int64_t>();
      }
      e.invoice = invoice;
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

}  // namespace paybell::webhooks

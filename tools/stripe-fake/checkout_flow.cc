#include "tools/stripe-fake/checkout_flow.h"

#include <cstdio>

namespace paybell::stripe_fake {

PayOutcome CompleteCheckout(ObjectStore& store, const std::string& session_id, int64_t now) {
  PayOutcome outcome;
  const auto it = store.checkout_sessions.find(session_id);
  if (it == store.checkout_sessions.end()) return outcome;
  CheckoutRecord& record = it->second;
  nlohmann::json& session = record.session;
  outcome.session = session;
  if (session["status"] != "open") {
    outcome.kind = PayOutcome::Kind::kAlreadyPaid;
    return outcome;
  }

  std::string customer_id;
  if (session["customer"].is_string()) {
    customer_id = session["customer"].get<std::string>();
  } else {
    customer_id = store.NextId("cus_fake_");
    store.customers[customer_id] = CustomerObject(customer_id, session["customer_email"], now);
  }
  const std::string subscription_id = store.NextId("sub_fake_");
  nlohmann::json subscription =
      SubscriptionObject(subscription_id, store.NextId("si_fake_"), customer_id, record, now);
  const std::string invoice_id = store.NextId("in_fake_");
  char number[32];
  std::snprintf(number, sizeof number, "FAKE-%04lld",
                static_cast<long long>(store.invoices.size() + 1));
  const nlohmann::json invoice = FirstInvoiceObject(invoice_id, store.NextId("il_fake_"), number,
                                                    subscription, record, store.public_url, now);
  store.invoices[invoice_id] = invoice;
  subscription["latest_invoice"] = invoice_id;
  store.subscriptions[subscription_id] = subscription;

  session["status"] = "complete";
  session["payment_status"] = "paid";
  session["customer"] = customer_id;
  session["subscription"] = subscription_id;
  session["invoice"] = invoice_id;
  session["amount_subtotal"] = invoice["subtotal"];
  session["amount_total"] = invoice["total"];
  outcome.kind = PayOutcome::Kind::kCompleted;
  outcome.session = session;

  // Stripe sends these in this order for a subscription checkout (among others the fake leaves
  // out): Paybell links the tenant (client_reference_id) on the first, records the subscription
  // on the second and the first invoice, paid, on the third.
  outcome.events.push_back(
      EventObject(store.NextId("evt_fake_"), "checkout.session.completed", session, now));
  outcome.events.push_back(
      EventObject(store.NextId("evt_fake_"), "customer.subscription.created", subscription, now));
  outcome.events.push_back(EventObject(store.NextId("evt_fake_"), "invoice.paid", invoice, now));
  for (const nlohmann::json& event : outcome.events) store.events.push_back(event);
  return outcome;
}

ChangeOutcome ChangeSubscription(ObjectStore& store, const std::string& customer,
                                 const SubscriptionChange& change, int64_t now) {
  ChangeOutcome outcome;
  const auto it = store.subscriptions.find(change.subscription);
  if (it == store.subscriptions.end() || it->second["customer"] != customer) {
    outcome.error = "No such subscription for this customer: " + change.subscription;
    return outcome;
  }
  nlohmann::json& subscription = it->second;
  if (subscription["status"] == "canceled") {
    outcome.error = "Subscription " + change.subscription + " is canceled; it cannot change.";
    return outcome;
  }
  if (!change.price.empty() && !store.HasPrice(change.price)) {
    outcome.error = "No such price: " + change.price;
    return outcome;
  }
  nlohmann::json previous = nlohmann::json::object();
  nlohmann::json& item = subscription["items"]["data"][0];
  if (!change.price.empty() && item["price"]["id"] != change.price) {
    previous["items"] = subscription["items"];
    item["price"]["id"] = change.price;
  }
  const int64_t period_end = item["current_period_end"].get<int64_t>();
  if (change.cancel_at_period_end &&
      subscription["cancel_at_period_end"].get<bool>() != *change.cancel_at_period_end) {
    previous["cancel_at_period_end"] = subscription["cancel_at_period_end"];
    previous["cancel_at"] = subscription["cancel_at"];
    previous["canceled_at"] = subscription["canceled_at"];
    subscription["cancel_at_period_end"] = *change.cancel_at_period_end;
    subscription["cancel_at"] =
        *change.cancel_at_period_end ? nlohmann::json(period_end) : nlohmann::json(nullptr);
    subscription["canceled_at"] =
        *change.cancel_at_period_end ? nlohmann::json(now) : nlohmann::json(nullptr);
  }
  std::string type = "customer.subscription.updated";
  if (change.cancel_now) {
    previous["status"] = subscription["status"];
    subscription["status"] = "canceled";
    subscription["canceled_at"] = now;
    subscription["ended_at"] = now;
    type = "customer.subscription.deleted";
  }
  if (previous.empty()) {
    outcome.error = "Nothing to change.";
    return outcome;
  }
  nlohmann::json event = EventObject(store.NextId("evt_fake_"), type, subscription, now);
  if (type == "customer.subscription.updated") event["data"]["previous_attributes"] = previous;
  store.events.push_back(event);
  outcome.events.push_back(event);
  outcome.subscription = subscription;
  return outcome;
}

}  // namespace paybell::stripe_fake

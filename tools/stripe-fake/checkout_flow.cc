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

}  // namespace paybell::stripe_fake

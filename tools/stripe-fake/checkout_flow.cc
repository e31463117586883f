#include "tools/stripe-fake/checkout_flow.h"

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
  const nlohmann::json subscription =
      SubscriptionObject(subscription_id, store.NextId("si_fake_"), customer_id, record, now);
  store.subscriptions[subscription_id] = subscription;

  session["status"] = "complete";
  session["payment_status"] = "paid";
  session["customer"] = customer_id;
  session["subscription"] = subscription_id;
  outcome.kind = PayOutcome::Kind::kCompleted;
  outcome.session = session;

  // Stripe sends these two in this order for a subscription checkout; Paybell links the tenant
  // (client_reference_id) on the first and records the subscription on the second.
  outcome.events.push_back(
      EventObject(store.NextId("evt_fake_"), "checkout.session.completed", session, now));
  outcome.events.push_back(
      EventObject(store.NextId("evt_fake_"), "customer.subscription.created", subscription, now));
  for (const nlohmann::json& event : outcome.events) store.events.push_back(event);
  return outcome;
}

}  // namespace paybell::stripe_fake

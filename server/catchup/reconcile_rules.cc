#include "server/catchup/reconcile_rules.h"

#include <ctime>

namespace paybell::catchup {
namespace {

using domain::Subscription;

std::string TimeText(const std::optional<int64_t>& unix_seconds) {
  if (!unix_seconds) return "";
  const std::time_t t = static_cast<std::time_t>(*unix_seconds);
  std::tm utc{};
  if (gmtime_r(&t, &utc) == nullptr) return std::to_string(*unix_seconds);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

int64_t CreatedOf(const nlohmann::json& subscription) {
  const auto created = subscription.find("created");
  return created != subscription.end() && created->is_number_integer() ? created->get<int64_t>()
                                                                       : 0;
}

std::string IdOf(const nlohmann::json& subscription) {
  const auto id = subscription.find("id");
  return id != subscription.end() && id->is_string() ? id->get<std::string>() : "";
}

}  // namespace

bool IsStripeSubscriptionId(std::string_view id) {
  constexpr std::string_view kPrefix = "sub_";
  if (id.size() <= kPrefix.size() || id.size() > 255 || id.substr(0, kPrefix.size()) != kPrefix) {
    return false;
  }
  for (const char c : id.substr(kPrefix.size())) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

bool IsLiveSubscriptionObject(const nlohmann::json& subscription) {
  if (!subscription.is_object()) return false;
  const auto status = subscription.find("status");
  if (status == subscription.end() || !status->is_string()) return false;
  const auto parsed = domain::StatusFromWord(status->get<std::string>());
  return parsed && domain::IsLive(*parsed);
}

webhooks::StripeEvent SubscriptionAsEvent(const nlohmann::json& subscription, int64_t at) {
  if (!subscription.is_object() || subscription.value("object", "") != "subscription") {
    throw webhooks::MalformedEvent("not a Stripe subscription object");
  }
  const nlohmann::json event = {{"id", "reconcile"},
                                {"object", "event"},
                                {"type", "customer.subscription.updated"},
                                {"created", at},
                                {"livemode", subscription.value("livemode", false)},
                                {"data", {{"object", subscription}}}};
  return webhooks::ParseStripeEvent(event.dump());
}

const nlohmann::json* PickSubscription(const std::vector<nlohmann::json>& candidates,
                                       const std::string& recorded_subscription_id) {
  const nlohmann::json* recorded = nullptr;
  const nlohmann::json* newest_live = nullptr;
  const nlohmann::json* newest = nullptr;
  for (const nlohmann::json& candidate : candidates) {
    if (!recorded_subscription_id.empty() && IdOf(candidate) == recorded_subscription_id) {
      recorded = &candidate;
    }
    if (IsLiveSubscriptionObject(candidate) &&
        (!newest_live || CreatedOf(candidate) > CreatedOf(*newest_live))) {
      newest_live = &candidate;
    }
    if (!newest || CreatedOf(candidate) > CreatedOf(*newest)) newest = &candidate;
  }
  if (recorded && IsLiveSubscriptionObject(*recorded)) return recorded;
  if (newest_live) return newest_live;
  if (recorded) return recorded;
  return newest;
}

std::vector<FieldDiff> DiffSubscriptions(const std::string& tenant_id,
                                         const std::optional<Subscription>& before,
                                         const Subscription& after) {
  std::vector<FieldDiff> diffs;
  const auto add = [&](const char* field, const std::string& was, const std::string& is) {
    if (was != is) diffs.push_back({tenant_id, field, was, is});
  };
  const auto bool_text = [](bool value) { return value ? std::string("true") : "false"; };
  add("stripe_customer_id", before ? before->stripe_customer_id : "", after.stripe_customer_id);
  add("stripe_subscription_id", before ? before->stripe_subscription_id : "",
      after.stripe_subscription_id);
  add("plan", before ? std::string(domain::PlanWord(before->plan)) : "",
      std::string(domain::PlanWord(after.plan)));
  add("status", before ? std::string(domain::StatusWord(before->status)) : "",
      std::string(domain::StatusWord(after.status)));
  add("current_period_start", TimeText(before ? before->current_period_start : std::nullopt),
      TimeText(after.current_period_start));
  add("current_period_end", TimeText(before ? before->current_period_end : std::nullopt),
      TimeText(after.current_period_end));
  add("cancel_at_period_end", before ? bool_text(before->cancel_at_period_end) : "",
      bool_text(after.cancel_at_period_end));
  add("cancel_at", TimeText(before ? before->cancel_at : std::nullopt), TimeText(after.cancel_at));
  add("canceled_at", TimeText(before ? before->canceled_at : std::nullopt),
      TimeText(after.canceled_at));
  add("trial_end", TimeText(before ? before->trial_end : std::nullopt), TimeText(after.trial_end));
  return diffs;
}

ReconcileDecision DecideReconcile(const std::string& tenant_id,
                                  const std::optional<Subscription>& current,
                                  const webhooks::StripeEvent& fetched,
                                  const webhooks::PlanPrices& prices, int64_t at, int64_t now) {
  ReconcileDecision decision;
  if (!fetched.state || fetched.subscription_id.empty()) {
    decision.error = "Stripe's subscription object has no id or state";
    return decision;
  }
  const auto status = domain::StatusFromWord(fetched.state->status);
  if (!status) {
    decision.error = "unknown subscription status '" + fetched.state->status + "' at Stripe";
    return decision;
  }
  if (current && current->last_event_created && *current->last_event_created >= at) {
    // An event created at or after the fetch began was applied meanwhile: it may say more
    // than the fetched object does. The next reconcile compares again.
    decision.skipped = "changed by " + current->last_event_id + " since Stripe was read";
    return decision;
  }
  const bool same = current && current->stripe_subscription_id == fetched.subscription_id;
  Subscription row;
  if (current) {
    row = *current;
  } else {
    row.tenant_id = tenant_id;
    row.created_at = now;
  }
  if (!same) {
    // Another subscription than the one recorded (the recorded one ended, or none was
    // recorded): its own state replaces the old one's, as a webhook for it would.
    const domain::Plan kept_plan =
        current && current->stripe_subscription_id.empty() ? current->plan : domain::Plan::kNone;
    row.plan = kept_plan;
  }
  webhooks::WriteSubscriptionState(fetched, *status, prices, row);
  decision.diffs = DiffSubscriptions(tenant_id, current, row);
  if (decision.diffs.empty()) return decision;
  row.last_event_created = at;  // later than the stored one: checked above
  row.last_event_id = "reconcile@" + TimeText(at);
  row.updated_at = now;
  decision.write = row;
  return decision;
}

}  // namespace paybell::catchup

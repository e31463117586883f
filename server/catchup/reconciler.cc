#include "server/catchup/reconciler.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <optional>
#include <utility>

#include "server/common/error.h"
#include "server/common/validation.h"

namespace paybell::catchup {

using common::Error;
using common::ErrorCode;

namespace {

std::string StringAt(const nlohmann::json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

// The customer of a subscription object: an id, or an expanded customer object.
std::string CustomerOf(const nlohmann::json& subscription) {
  const auto it = subscription.find("customer");
  if (it == subscription.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object()) return StringAt(*it, "id");
  return "";
}

}  // namespace

Reconciler::Reconciler(stripe::StripeApi& api, webhooks::EventIngestor& ingestor,
                       db::Database& database, webhooks::PlanPrices prices,
                       const common::Clock& clock, ReconcilePolicy policy)
    : api_(api),
      ingestor_(ingestor),
      database_(database),
      prices_(std::move(prices)),
      clock_(clock),
      policy_(policy) {}

std::vector<nlohmann::json> Reconciler::ListSubscriptions(stripe::FormFields query,
                                                          ReconcileCounts& counts,
                                                          const ReconcileProgress& progress,
                                                          const common::StopSignal* stop) {
  std::vector<nlohmann::json> out;
  std::string cursor;
  for (bool more = true; more;) {
    common::ThrowIfStopped(stop, "reconcile");
    stripe::FormFields page_query = query;
    page_query.emplace_back("status", "all");
    page_query.emplace_back("limit", std::to_string(policy_.page_size));
    if (!cursor.empty()) page_query.emplace_back("starting_after", cursor);
    nlohmann::json page = PatientGet(
        api_, "/v1/subscriptions", page_query, policy_.patience, stop,
        "reconcile: page " + std::to_string(counts.pages + 1) + " of Stripe subscriptions");
    ++counts.pages;
    auto data = page.find("data");
    if (!page.is_object() || data == page.end() || !data->is_array()) {
      throw Error(ErrorCode::kUnavailable, "Stripe's subscription list answered without data");
    }
    std::string last_id;
    for (nlohmann::json& subscription : *data) {
      last_id = StringAt(subscription, "id");
      if (!last_id.empty()) out.push_back(std::move(subscription));
    }
    const auto has_more = page.find("has_more");
    more = has_more != page.end() && has_more->is_boolean() && has_more->get<bool>();
    if (more && (last_id.empty() || last_id == cursor)) {
      // Asking from the same cursor again would list the same page forever.
      throw Error(ErrorCode::kUnavailable,
                  "Stripe's subscription list says there is more but its page had nothing new");
    }
    cursor = last_id;
    if (progress) progress(counts, "paging");
  }
  return out;
}

void Reconciler::ReconcileTenant(const std::string& tenant_id,
                                 const std::vector<nlohmann::json>& candidates, int64_t fetched_at,
                                 const ReconcileOptions& options, const webhooks::Actor& actor,
                                 ReconcileCounts& counts) {
  ++counts.checked;
  std::optional<domain::Subscription> stored;
  database_.Read("read a subscription to reconcile",
                 [&](db::UnitOfWork& unit) { stored = unit.subscriptions().Find(tenant_id); });
  const nlohmann::json* picked =
      PickSubscription(candidates, stored ? stored->stripe_subscription_id : "");
  if (picked == nullptr) return;
  webhooks::StripeEvent fetched;
  try {
    fetched = SubscriptionAsEvent(*picked, fetched_at);
  } catch (const webhooks::MalformedEvent& e) {
    spdlog::warn("reconcile: tenant {}: Stripe subscription {} not readable: {}", tenant_id,
                 StringAt(*picked, "id"), e.what());
    return;
  }
  const int64_t now = clock_.NowUnix();
  ReconcileDecision decision =
      DecideReconcile(tenant_id, stored, fetched, prices_, fetched_at, now);
  if (!decision.error.empty()) {
    spdlog::warn("reconcile: tenant {}: {}", tenant_id, decision.error);
    return;
  }
  // Before the write, and again under the tenant's lock: a newer event may have come in.
  const auto left_alone = [&] {
    if (decision.skipped.empty()) return false;
    ++counts.skipped;
    spdlog::info("reconcile: tenant {} left as it is: {}", tenant_id, decision.skipped);
    return true;
  };
  if (left_alone() || decision.diffs.empty()) return;
  if (!options.dry_run) {
    database_.Transact("reconcile a subscription", [&](db::UnitOfWork& unit) {
      unit.LockTenant(tenant_id);
      // What the tenant holds now: a webhook may have landed since the read above.
      const auto current = unit.subscriptions().Find(tenant_id);
      decision = DecideReconcile(tenant_id, current, fetched, prices_, fetched_at, now);
      if (!decision.write) return;  // matches now, or a newer event came in: nothing to write
      unit.subscriptions().Upsert(*decision.write);
      nlohmann::json diffs = nlohmann::json::array();
      for (const FieldDiff& d : decision.diffs) {
        diffs.push_back({{"field", d.field}, {"before", d.before}, {"after", d.after}});
      }
      db::AuditEntry audit;
      audit.at = now;
      audit.actor = actor.name;
      audit.actor_role = actor.role;
      audit.tenant_id = tenant_id;
      audit.action = "billing.subscription.reconciled";
      audit.target = fetched.subscription_id;
      audit.detail =
          nlohmann::json{{"subscription", fetched.subscription_id}, {"diffs", diffs}}.dump();
      audit.request_id = actor.request_id;
      unit.audit().Append(audit);
      unit.Commit();
    });
    if (!decision.write) {
      left_alone();
      return;
    }
    std::string fields;
    for (const FieldDiff& d : decision.diffs) {
      fields += (fields.empty() ? "" : ", ") + d.field + " " + d.before + " → " + d.after;
    }
    spdlog::info("reconcile: tenant {} corrected from Stripe subscription {}: {}", tenant_id,
                 fetched.subscription_id, fields);
  }
  ++counts.changed;
  for (FieldDiff& d : decision.diffs) counts.diffs.push_back(std::move(d));
}

void Reconciler::RetryUnmatchedEvents(const std::string& only, const ReconcileOptions& options,
                                      const webhooks::Actor& actor, ReconcileCounts& counts,
                                      const common::StopSignal* stop) {
  // Events stored without a tenant: unmatched (no tenant known then) or failed before one was
  // found. Failed events with a tenant failed on their content (an unknown status, a second live
  // subscription) and need an operator, not another try.
  std::vector<db::EventRecord> waiting;
  for (const domain::EventOutcome outcome :
       {domain::EventOutcome::kUnmatched, domain::EventOutcome::kFailed}) {
    db::EventFilter filter;
    filter.outcome = outcome;
    filter.limit = 500;
    int examined = 0;
    for (bool more = true; more && examined < policy_.max_events_examined;) {
      std::vector<db::EventRecord> page;
      database_.Read("list events to retry",
                     [&](db::UnitOfWork& unit) { page = unit.events().List(filter); });
      examined += static_cast<int>(page.size());
      more = static_cast<int>(page.size()) == filter.limit;
      if (!page.empty()) filter.before = {{page.back().received_at, page.back().event_id}};
      for (db::EventRecord& e : page) {
        if (e.tenant_id.empty()) waiting.push_back(std::move(e));
      }
    }
  }
  std::sort(waiting.begin(), waiting.end(), [](const db::EventRecord& a, const db::EventRecord& b) {
    return a.created != b.created ? a.created < b.created : a.received_at < b.received_at;
  });
  for (const db::EventRecord& e : waiting) {
    common::ThrowIfStopped(stop, "reconcile");
    std::optional<std::string> tenant;
    if (!e.stripe_subscription_id.empty() || !e.stripe_customer_id.empty()) {
      database_.Read("find the tenant of an unmatched event", [&](db::UnitOfWork& unit) {
        tenant = unit.subscriptions().FindTenantByStripeIds(e.stripe_subscription_id,
                                                            e.stripe_customer_id);
      });
    }
    if (!tenant || !common::IsValidTenantId(*tenant) || (!only.empty() && *tenant != only))
      continue;
    ++counts.events_retried;
    if (options.dry_run) continue;
    // As a late delivery would be: no operator's override of the ordering guard, so an event
    // older than the state reconcile just wrote is stale. One applied notifies its tenant only
    // while it is recent (webhooks::kNotifyWithin).
    const db::EventRecord after =
        ingestor_.Replay(e.event_id, actor, webhooks::EventIngestor::ReplayMode::kRetry);
    spdlog::info("reconcile: event {} ({}) of tenant {} retried: {}", e.event_id, e.type, *tenant,
                 domain::OutcomeWord(after.outcome));
  }
}

ReconcileCounts Reconciler::Run(const ReconcileOptions& options, const webhooks::Actor& actor,
                                const ReconcileProgress& progress, const common::StopSignal* stop) {
  ReconcileCounts counts;
  const auto report = [&](std::string_view stage) {
    if (progress) progress(counts, stage);
  };
  // Paybell's clock when the fetching began: Stripe's objects hold every change made before it.
  const int64_t fetched_at = clock_.NowUnix();
  if (!options.tenant_id.empty()) {
    std::optional<domain::Subscription> stored;
    database_.Read("read a subscription to reconcile", [&](db::UnitOfWork& unit) {
      stored = unit.subscriptions().Find(options.tenant_id);
    });
    if (!stored || (stored->stripe_subscription_id.empty() && stored->stripe_customer_id.empty())) {
      throw Error(ErrorCode::kNotFound, "tenant " + options.tenant_id +
                                            " has no Stripe customer or subscription recorded");
    }
    std::vector<nlohmann::json> candidates;
    const std::string& subscription_id = stored->stripe_subscription_id;
    if (!subscription_id.empty() && !IsStripeSubscriptionId(subscription_id)) {
      // Stored from an event whose id Stripe would not have made; never put into a URL path.
      throw Error(ErrorCode::kFailedPrecondition,
                  "tenant " + options.tenant_id + " has a malformed Stripe subscription id");
    }
    if (!subscription_id.empty()) {
      try {
        candidates.push_back(PatientGet(api_, "/v1/subscriptions/" + subscription_id, {},
                                        policy_.patience, stop,
                                        "reconcile: Stripe subscription " + subscription_id));
      } catch (const Error& e) {
        if (e.code() != ErrorCode::kNotFound) throw;
        spdlog::warn("reconcile: tenant {}: Stripe has no subscription {}", options.tenant_id,
                     stored->stripe_subscription_id);
      }
    }
    if ((candidates.empty() || !IsLiveSubscriptionObject(candidates.front())) &&
        !stored->stripe_customer_id.empty()) {
      // The recorded subscription ended or was never recorded: the customer may have another.
      for (nlohmann::json& s :
           ListSubscriptions({{"customer", stored->stripe_customer_id}}, counts, progress, stop)) {
        candidates.push_back(std::move(s));
      }
    }
    report("comparing");
    ReconcileTenant(options.tenant_id, candidates, fetched_at, options, actor, counts);
  } else {
    const std::vector<nlohmann::json> all = ListSubscriptions({}, counts, progress, stop);
    // Each subscription's tenant: the one its metadata names (Paybell's checkout writes it),
    // else the one holding its ids.
    std::map<std::string, std::vector<nlohmann::json>> by_tenant;
    for (const nlohmann::json& subscription : all) {
      common::ThrowIfStopped(stop, "reconcile");
      std::string tenant;
      const auto metadata = subscription.find("metadata");
      if (metadata != subscription.end() && metadata->is_object()) {
        tenant = StringAt(*metadata, "tenant_id");
      }
      if (tenant.empty()) {
        database_.Read("find the tenant of a Stripe subscription", [&](db::UnitOfWork& unit) {
          tenant =
              unit.subscriptions()
                  .FindTenantByStripeIds(StringAt(subscription, "id"), CustomerOf(subscription))
                  .value_or("");
        });
      }
      if (tenant.empty() || !common::IsValidTenantId(tenant)) continue;  // not one of Paybell's
      by_tenant[tenant].push_back(subscription);
    }
    report("comparing");
    for (const auto& [tenant, candidates] : by_tenant) {
      common::ThrowIfStopped(stop, "reconcile");
      ReconcileTenant(tenant, candidates, fetched_at, options, actor, counts);
      report("comparing");
    }
  }
  report("retrying events");
  RetryUnmatchedEvents(options.tenant_id, options, actor, counts, stop);
  return counts;
}

}  // namespace paybell::catchup

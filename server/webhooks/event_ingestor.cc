#include "server/webhooks/event_ingestor.h"

#include <spdlog/spdlog.h>

#include <cctype>
#include <nlohmann/json.hpp>
#include <utility>

#include "server/common/error.h"
#include "server/common/limits.h"
#include "server/common/validation.h"
#include "server/webhooks/stripe_signature.h"

namespace paybell::webhooks {

using common::Error;
using common::ErrorCode;
using domain::EventOutcome;

domain::TriggerEvent BillingTrigger(const StripeEvent& event, domain::Trigger trigger) {
  if (trigger == domain::Trigger::kTrialEnding) {
    domain::TrialEnding trial;
    trial.event_id = event.id;
    trial.trial_end = event.state && event.state->trial_end ? *event.state->trial_end : 0;
    return trial;
  }
  domain::InvoiceProblem problem;
  problem.event_id = event.id;
  if (event.invoice) {
    problem.invoice_id = event.invoice->id;
    problem.hosted_invoice_url = event.invoice->hosted_invoice_url;
    problem.amount_due_minor = event.invoice->amount_due;
    for (char c : event.invoice->currency) {
      problem.currency.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    }
  }
  if (trigger == domain::Trigger::kPaymentActionRequired) {
    return domain::PaymentActionRequired{problem};
  }
  return domain::PaymentFailed{problem};
}

namespace {

// An event found stored by the statement that was to store it (see Ingest). A common::Error,
// so the pool passes it through unchanged; not kUnavailable, so a shared transaction it fails
// runs each of its events again alone.
struct StoredMeanwhile : Error {
  StoredMeanwhile() : Error(ErrorCode::kAlreadyExists, "the event was stored meanwhile") {}
};

// The tenant an event belongs to: metadata.tenant_id (Paybell puts it on every subscription it
// creates), else the checkout's client_reference_id, else whoever holds its Stripe ids.
std::string FindTenant(db::UnitOfWork& unit, const StripeEvent& e) {
  if (!e.metadata_tenant_id.empty()) return e.metadata_tenant_id;
  if (!e.client_reference_id.empty()) return e.client_reference_id;
  return unit.subscriptions().FindTenantByStripeIds(e.subscription_id, e.customer_id).value_or("");
}

std::string AuditDetail(const StripeEvent& e, const std::optional<domain::Subscription>& before,
                        const std::optional<domain::Subscription>& after,
                        const std::optional<domain::Invoice>& invoice) {
  nlohmann::json detail = {{"type", e.type}, {"created", e.created}};
  if (invoice) {
    detail["invoice"] = invoice->invoice_id;
    detail["invoice_status"] = domain::InvoiceStatusWord(invoice->status);
  }
  if (before) detail["status_before"] = domain::StatusWord(before->status);
  if (after) {
    detail["status"] = domain::StatusWord(after->status);
    detail["plan"] = domain::PlanWord(after->plan);
    detail["subscription"] = after->stripe_subscription_id;
  }
  return detail.dump();
}

}  // namespace

EventIngestor::EventIngestor(db::Database& database, const common::Config& config,
                             const common::Clock& clock, BillingNotifications& notifications)
    : database_(database),
      config_(config),
      clock_(clock),
      notifications_(notifications),
      group_commit_(database,
                    {"ingest Stripe events",
                     // PostgreSQL: one transaction commits while the next runs; SQLite has
                     // one writer at a time anyway.
                     config.database.kind == common::DatabaseKind::kPostgres ? 2u : 1u, 64}) {
  prices_ = {config.stripe_price_starter, config.stripe_price_pro, config.stripe_price_firm};
}

IngestResult EventIngestor::Ingest(std::string_view payload, std::string_view signature_header,
                                   const std::string& request_id) {
  if (config_.stripe_webhook_secrets.empty()) {
    spdlog::error(
        "refused a Stripe webhook: STRIPE_WEBHOOK_SECRET is not configured "
        "(Stripe will retry once it is)");
    throw Error(ErrorCode::kUnavailable, "webhooks are not configured on this server");
  }
  if (payload.size() > common::kMaxStripeEventBytes) {
    // The HTTP route refuses these unread (413); a gRPC caller meets the same limit.
    throw Error(ErrorCode::kInvalidArgument, "payload over 1 MiB: not a Stripe event");
  }
  const SignatureCheck check =
      VerifyStripeSignature(signature_header, payload, config_.stripe_webhook_secrets,
                            config_.stripe_webhook_tolerance_s, clock_.NowUnix());
  if (!check.ok) {
    spdlog::warn("refused a Stripe webhook: {}", check.reason);
    throw Error(ErrorCode::kInvalidArgument, "signature verification failed: " + check.reason);
  }
  StripeEvent event;
  try {
    event = ParseStripeEvent(payload);
    ValidateEventTimes(event, clock_.NowUnix(), config_.stripe_webhook_tolerance_s);
  } catch (const MalformedEvent& e) {
    throw Error(ErrorCode::kInvalidArgument, std::string("malformed event: ") + e.what());
  }

  const IngestResult result =
      Store(event, payload, Actor{"stripe", "", request_id}, domain::EventSource::kWebhook);
  // The one line of a delivery (the adapter's access line for it goes to debug).
  spdlog::info("Stripe event {} ({}) {} request_id={}", event.id, event.type,
               domain::OutcomeWord(result.outcome), request_id);
  return result;
}

IngestResult EventIngestor::IngestFetched(std::string_view payload, const Actor& actor) {
  if (payload.size() > common::kMaxStripeEventBytes) {
    throw Error(ErrorCode::kInvalidArgument, "event over 1 MiB: not a Stripe event");
  }
  StripeEvent event;
  try {
    event = ParseStripeEvent(payload);
    ValidateEventTimes(event, clock_.NowUnix(), config_.stripe_webhook_tolerance_s);
  } catch (const MalformedEvent& e) {
    throw Error(ErrorCode::kInvalidArgument, std::string("malformed event: ") + e.what());
  }
  return Store(event, payload, actor, domain::EventSource::kSync);
}

IngestResult EventIngestor::Store(const StripeEvent& event, std::string_view payload,
                                  const Actor& actor, domain::EventSource source) {
  IngestResult result{event.id, EventOutcome::kFailed};
  // The event's tenant, locked with the other tenants of the shared transaction before any of
  // its units runs: the one the event names itself, else (PostgreSQL) the one its Stripe ids
  // find now.
  std::vector<std::string> tenants;
  for (const std::string* named : {&event.metadata_tenant_id, &event.client_reference_id}) {
    if (!named->empty() && common::IsValidTenantId(*named)) {
      tenants.push_back(*named);
      break;
    }
  }
  if (tenants.empty() && event.kind != EventKind::kUnhandled &&
      config_.database.kind == common::DatabaseKind::kPostgres &&
      (!event.subscription_id.empty() || !event.customer_id.empty())) {
    // Found by its Stripe ids: look the tenant up now, so the shared transaction locks it with
    // the others, in order. Locked late, inside the transaction, while holding other tenants'
    // locks, it could deadlock with a second writer's transaction (PostgreSQL would break it
    // after a second). The transaction looks again; a tenant found only then is locked then.
    database_.Read("find the tenant of a Stripe event", [&](db::UnitOfWork& unit) {
      const auto found =
          unit.subscriptions().FindTenantByStripeIds(event.subscription_id, event.customer_id);
      if (found && common::IsValidTenantId(*found)) tenants.push_back(*found);
    });
  }
  // Optimistically the event's row is written last, with its outcome, in one statement (an
  // insert and a later update of the same row cost two round trips and two row versions). A
  // duplicate is then only found at the very end, with its effects already written: the unit
  // throws StoredMeanwhile, its transaction rolls back, and the event runs again the careful
  // way — row first, so a duplicate touches nothing. Duplicates are rare (Stripe's retries).
  bool optimistic = true;
  // A fetched event may be long past Stripe's own retries: it notifies only while recent.
  const ProcessMode store_mode{/*replay=*/false, /*operator_replay=*/false,
                               /*notify_only_recent=*/source == domain::EventSource::kSync};
  const auto work = [&](db::UnitOfWork& unit) {
    db::EventRecord row;
    row.event_id = event.id;
    row.type = event.type;
    row.created = event.created;
    row.livemode = event.livemode;
    row.stripe_customer_id = event.customer_id;
    row.stripe_subscription_id = event.subscription_id;
    row.payload = std::string(payload);
    row.outcome = EventOutcome::kFailed;  // replaced below, in this same transaction
    row.error = "not processed";
    row.received_at = clock_.NowUnix();
    row.source = source;
    if (optimistic) {
      try {
        result.outcome = Process(unit, event, actor, std::nullopt, store_mode, &row);
      } catch (const StoredMeanwhile&) {
        optimistic = false;
        throw;
      }
      return;
    }
    if (!unit.events().InsertIfNew(std::move(row))) {
      unit.events().CountDuplicateDelivery(event.id);
      result.outcome = EventOutcome::kDuplicate;
      return;
    }
    result.outcome = Process(unit, event, actor, std::nullopt, store_mode, nullptr);
  };
  try {
    group_commit_.Run(work, tenants);
  } catch (const StoredMeanwhile&) {
    // Thrown by the event running alone (in a shared transaction, GroupCommit runs it again
    // alone itself, and by then `optimistic` is false).
    group_commit_.Run(work, tenants);
  }
  return result;
}

db::EventRecord EventIngestor::Replay(const std::string& event_id, const Actor& actor,
                                      ReplayMode mode) {
  std::optional<db::EventRecord> stored;
  database_.Transact("replay Stripe event", [&](db::UnitOfWork& unit) {
    stored = unit.events().Find(event_id, /*with_payload=*/true);
    if (!stored) return;
    const StripeEvent event = ParseStripeEvent(stored->payload);  // stored only if it parsed
    const EventOutcome outcome =
        Process(unit, event, actor, stored->outcome,
                ProcessMode{/*replay=*/true, /*operator_replay=*/mode == ReplayMode::kOperator,
                            /*notify_only_recent=*/mode == ReplayMode::kRetry},
                nullptr);
    stored = unit.events().Find(event_id, /*with_payload=*/true);  // as recorded now
    db::AuditEntry audit;
    audit.at = clock_.NowUnix();
    audit.actor = actor.name;
    audit.actor_role = actor.role;
    audit.tenant_id = stored->tenant_id;
    audit.action = "billing.event.replayed";
    audit.target = event_id;
    audit.detail =
        nlohmann::json{{"type", event.type}, {"outcome", domain::OutcomeWord(outcome)}}.dump();
    audit.request_id = actor.request_id;
    unit.audit().Append(audit);
    unit.Commit();
  });
  if (!stored) throw Error(ErrorCode::kNotFound, "no stored event " + event_id);
  spdlog::info("replayed Stripe event {} by {}: {}", event_id, actor.name,
               domain::OutcomeWord(stored->outcome));
  return *stored;
}

EventOutcome EventIngestor::Process(db::UnitOfWork& unit, const StripeEvent& event,
                                    const Actor& actor,
                                    std::optional<EventOutcome> previous_outcome, ProcessMode mode,
                                    db::EventRecord* unstored) {
  const int64_t now = clock_.NowUnix();
  std::string tenant_id;
  std::optional<domain::Subscription> current;
  EventDecision decision;
  // The tenant lookup by Stripe ids is the one read before the lock: it names the lock. Every
  // read of the tenant's own state follows it, and at READ COMMITTED sees what the previous
  // holder committed.
  if (event.kind != EventKind::kUnhandled) tenant_id = FindTenant(unit, event);
  if (!tenant_id.empty() && !common::IsValidTenantId(tenant_id)) {
    decision.outcome = EventOutcome::kFailed;
    decision.error = "the event names an invalid tenant id";
    tenant_id.clear();
  } else {
    if (!tenant_id.empty()) {
      unit.LockTenant(tenant_id);
      current = unit.subscriptions().Find(tenant_id);
    }
    // An operator's replay may install a subscription against another's clock (the way out of
    // a two-subscription conflict), but only with that subscription's newest stored state:
    // an older event of it would bring back what later events (perhaps stored stale) undid.
    const bool newest_of_its_subscription =
        mode.operator_replay && event.kind == EventKind::kSubscriptionChange &&
        unit.events().NewestSubscriptionEventCreated(event.subscription_id).value_or(0) <=
            event.created;
    decision = DecideEvent(event, tenant_id, current, prices_, now, newest_of_its_subscription);
  }

  if (decision.write) unit.subscriptions().Upsert(*decision.write);
  if (decision.outcome == EventOutcome::kApplied && decision.invoice &&
      !unit.invoices().UpsertIfNewer(*decision.invoice) && decision.only_records_invoice) {
    // A newer event of this invoice was recorded first (Stripe does not deliver in order):
    // this one changed nothing. Events that also notify or link ids stay applied.
    const auto stored = unit.invoices().Find(decision.invoice->invoice_id);
    decision.outcome = EventOutcome::kStale;
    decision.error = "invoice " + decision.invoice->invoice_id + " already holds a newer event " +
                     (stored ? stored->last_event_id : "");
  }
  db::AuditEntry audit;
  audit.at = now;
  audit.actor = actor.name;
  audit.actor_role = actor.role;
  audit.tenant_id = tenant_id;
  audit.target = event.id;
  audit.request_id = actor.request_id;
  if (decision.outcome == EventOutcome::kApplied) {
    if (decision.plan_source == PlanSource::kMetadata) {
      spdlog::warn(
          "Stripe event {}: price of subscription {} is not one of STRIPE_PRICE_*; plan taken "
          "from metadata.plan ({})",
          event.id, event.subscription_id, event.metadata_plan);
    }
    if (decision.write && decision.write->plan == domain::Plan::kNone &&
        domain::IsEntitled(decision.write->status)) {
      spdlog::warn(
          "Stripe event {}: tenant {} is entitled but its plan is unknown (price of subscription "
          "{} is not one of STRIPE_PRICE_* and it has no metadata.plan)",
          event.id, tenant_id, event.subscription_id);
    }
    audit.action = "billing.event.applied";
    audit.detail = AuditDetail(event, current, decision.write, decision.invoice);
    unit.audit().Append(audit);
    if (decision.notify && mode.notify_only_recent &&
        now - event.created > std::chrono::seconds(kNotifyWithin).count()) {
      // Only catch-up or a retry brings an event this old (Stripe stops delivering after three
      // days): the tenant is not told today of a payment that failed last week. Applied and
      // audited all the same.
      spdlog::info("Stripe event {} ({}) of tenant {}: {} h old, applied without notifying",
                   event.id, event.type, tenant_id, (now - event.created) / 3600);
    } else if (decision.notify) {
      notifications_.Raise(unit, tenant_id, BillingTrigger(event, *decision.notify), event.id);
    }
    if (!event.checkout_session_id.empty()) {
      unit.checkouts().MarkComplete(event.checkout_session_id, now);
    }
  } else if (decision.second_live_subscription) {
    spdlog::error("Stripe event {}: {}", event.id, decision.error);
    audit.action = "billing.subscription.conflict";
    if (!event.checkout_session_id.empty()) {
      unit.checkouts().MarkComplete(event.checkout_session_id, now);  // it was paid
    }
    audit.detail = nlohmann::json{{"type", event.type},
                                  {"subscription", event.subscription_id},
                                  {"live_subscription", current->stripe_subscription_id},
                                  {"checkout_session", event.checkout_session_id},
                                  {"error", decision.error}}
                       .dump();
    unit.audit().Append(audit);
  }
  EventOutcome outcome = decision.outcome;
  std::string error = decision.error;
  if (previous_outcome == EventOutcome::kApplied && outcome != EventOutcome::kApplied) {
    // The event did change the subscription once; a replay that no longer applies (newer
    // events came since) must not erase that from the record.
    error = "replay found it " + std::string(domain::OutcomeWord(outcome)) + ": " + error;
    outcome = EventOutcome::kApplied;
  }
  if (unstored != nullptr) {
    unstored->tenant_id = tenant_id;
    unstored->outcome = outcome;
    unstored->error = error;
    unstored->processed_at = now;
    if (!unit.events().InsertIfNew(std::move(*unstored))) throw StoredMeanwhile();
  } else {
    unit.events().SetOutcome(event.id, tenant_id, outcome, error, now, mode.replay);
  }
  return decision.outcome;
}

}  // namespace paybell::webhooks

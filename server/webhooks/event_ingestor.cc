#include "server/webhooks/event_ingestor.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "server/common/error.h"
#include "server/common/validation.h"
#include "db/audit_repository.h"
#include "db/checkout_repository.h"
#include "db/subscription_repository.h"
#include "server/webhooks/stripe_signature.h"

namespace paybell::webhooks {

using common::Error;
using common::ErrorCode;

void LogOnlyPaymentFailedSink::OnPaymentFailed(soci::session&, const std::string& tenant_id,
                                               const StripeEvent& event) {
  spdlog::info("payment failed for tenant {} (event {}); notifications are not built yet",
               tenant_id, event.id);
}

namespace {

// The tenant an event belongs to: metadata.tenant_id (Paybell puts it on every subscription it
// creates), else the checkout's client_reference_id, else whoever holds its Stripe ids.
std::string FindTenant(soci::session& session, const StripeEvent& e) {
  if (!e.metadata_tenant_id.empty()) return e.metadata_tenant_id;
  if (!e.client_reference_id.empty()) return e.client_reference_id;
  return db::tenant_lookup_sql::FindTenantByStripeIds(session, e.subscription_id, e.customer_id)
      .value_or("");
}

bool IsValidTenantId(const std::string& tenant_id) {
  try {
    common::ValidateTenantId(tenant_id);
    return true;
  } catch (const Error&) {
    return false;
  }
}

std::string AuditDetail(const StripeEvent& e, const std::optional<db::SubscriptionRecord>& before,
                        const std::optional<db::SubscriptionRecord>& after) {
  nlohmann::json detail = {{"type", e.type}, {"created", e.created}};
  if (before) detail["status_before"] = before->status;
  if (after) {
    detail["status"] = after->status;
    detail["plan"] = after->plan;
    detail["subscription"] = after->stripe_subscription_id;
  }
  return detail.dump();
}

}  // namespace

EventIngestor::EventIngestor(db::ConnectionPool& pool, const common::Config& config,
                             const common::Clock& clock, PaymentFailedSink& payment_failed)
    : pool_(pool), config_(config), clock_(clock), payment_failed_(payment_failed) {
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
  } catch (const MalformedEvent& e) {
    throw Error(ErrorCode::kInvalidArgument, std::string("malformed event: ") + e.what());
  }

  IngestResult result{event.id, ""};
  const Actor stripe{"stripe", "", request_id};
  pool_.Run("ingest Stripe event", [&](soci::session& session) {
    db::WriteTransaction tx(session, pool_.kind());
    db::EventRecord row;
    row.event_id = event.id;
    row.type = event.type;
    row.created = event.created;
    row.livemode = event.livemode;
    row.stripe_customer_id = event.customer_id;
    row.stripe_subscription_id = event.subscription_id;
    row.payload = std::string(payload);
    row.outcome = "failed";  // replaced below, in this same transaction
    row.error = "not processed";
    row.received_at = clock_.NowUnix();
    if (!db::event_sql::InsertIfNew(session, row)) {
      db::event_sql::CountDuplicateDelivery(session, event.id);
      tx.Commit();
      result.outcome = "duplicate";
      return;
    }
    result.outcome = Process(session, event, stripe, "", /*replay=*/false);
    tx.Commit();
  });
  spdlog::info("Stripe event {} ({}) {}", event.id, event.type, result.outcome);
  return result;
}

db::EventRecord EventIngestor::Replay(const std::string& event_id, const Actor& actor) {
  std::optional<db::EventRecord> stored;
  pool_.Run("replay Stripe event", [&](soci::session& session) {
    db::WriteTransaction tx(session, pool_.kind());
    stored = db::event_sql::Find(session, event_id, /*with_payload=*/true);
    if (!stored) return;
    const StripeEvent event = ParseStripeEvent(stored->payload);  // stored only if it parsed
    const std::string outcome = Process(session, event, actor, stored->outcome, /*replay=*/true);
    stored = db::event_sql::Find(session, event_id, /*with_payload=*/true);  // as recorded now
    db::AuditEntry audit;
    audit.at = clock_.NowUnix();
    audit.actor = actor.name;
    audit.actor_role = actor.role;
    audit.tenant_id = stored->tenant_id;
    audit.action = "billing.event.replayed";
    audit.target = event_id;
    audit.detail = nlohmann::json{{"type", event.type}, {"outcome", outcome}}.dump();
    audit.request_id = actor.request_id;
    db::audit_sql::Insert(session, audit);
    tx.Commit();
  });
  if (!stored) throw Error(ErrorCode::kNotFound, "no stored event " + event_id);
  spdlog::info("replayed Stripe event {} by {}: {}", event_id, actor.name, stored->outcome);
  return *stored;
}

std::string EventIngestor::Process(soci::session& session, const StripeEvent& event,
                                   const Actor& actor, const std::string& previous_outcome,
                                   bool replay) {
  const int64_t now = clock_.NowUnix();
  std::string tenant_id;
  std::optional<db::SubscriptionRecord> current;
  EventDecision decision;
  if (event.kind != EventKind::kUnhandled) tenant_id = FindTenant(session, event);
  if (!tenant_id.empty() && !IsValidTenantId(tenant_id)) {
    decision.outcome = "failed";
    decision.error = "the event names an invalid tenant id";
    tenant_id.clear();
  } else {
    if (!tenant_id.empty()) {
      db::tenant_lookup_sql::LockTenant(session, pool_.kind(), tenant_id);
      current = db::subscription_sql::Find(session, tenant_id);
    }
    decision = DecideEvent(event, tenant_id, current, prices_, now);
  }

  if (decision.write) db::subscription_sql::Upsert(session, *decision.write);
  if (decision.outcome == "applied") {
    db::AuditEntry audit;
    audit.at = now;
    audit.actor = actor.name;
    audit.actor_role = actor.role;
    audit.tenant_id = tenant_id;
    audit.action = "billing.event.applied";
    audit.target = event.id;
    audit.detail = AuditDetail(event, current, decision.write);
    audit.request_id = actor.request_id;
    db::audit_sql::Insert(session, audit);
    if (decision.payment_failed) payment_failed_.OnPaymentFailed(session, tenant_id, event);
    if (!event.checkout_session_id.empty()) {
      db::checkout_sql::MarkComplete(session, event.checkout_session_id, now);
    }
  }
  std::string outcome = decision.outcome;
  std::string error = decision.error;
  if (previous_outcome == "applied" && outcome != "applied") {
    // The event did change the subscription once; a replay that no longer applies (newer
    // events came since) must not erase that from the record.
    error = "replay found it " + outcome + ": " + error;
    outcome = "applied";
  }
  db::event_sql::SetOutcome(session, event.id, tenant_id, outcome, error, now, replay);
  return decision.outcome;
}

}  // namespace paybell::webhooks

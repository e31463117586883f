// Stripe webhook ingestion: verify, parse, then store and apply in one transaction; and the
// operator's replay of a stored event.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "db/group_commit.h"
#include "db/unit_of_work.h"
#include "server/common/clock.h"
#include "server/common/config.h"
#include "server/domain/event_outcome.h"
#include "server/webhooks/billing_notifications.h"
#include "server/webhooks/event_rules.h"

namespace paybell::webhooks {

struct IngestResult {
  std::string event_id;
  domain::EventOutcome outcome = domain::EventOutcome::kFailed;
};

// Who asked, for the audit log.
struct Actor {
  std::string name;  // token "sub", or "stripe"
  std::string role;
  std::string request_id;
};

// The notification an applied event raises: its facts (invoice link, trial end) as the
// trigger's payload.
domain::TriggerEvent BillingTrigger(const StripeEvent& event, domain::Trigger trigger);

// A billing event found by catch-up or retried by reconcile notifies its tenant only while it
// is this recent: as long as Stripe itself retries a webhook. Older ones apply silently (a
// webhook is never that old: Stripe stops delivering it).
constexpr std::chrono::hours kNotifyWithin{72};

class EventIngestor {
 public:
  EventIngestor(db::Database& database, const common::Config& config, const common::Clock& clock,
                BillingNotifications& notifications);

  // Throws common::Error: kInvalidArgument for a bad signature or a payload that is not a
  // Stripe event (nothing stored; Stripe should not retry a forgery), kUnavailable when no
  // webhook secret is configured or the database is down (Stripe retries, nothing is lost).
  // Returns only after the event's transaction committed. Events arriving together share a
  // transaction (db::GroupCommit); each is applied exactly as it would be alone.
  IngestResult Ingest(std::string_view payload, std::string_view signature_header,
                      const std::string& request_id);

  // An event fetched from Stripe's API (catch-up): no signature (the API call was
  // authenticated with the secret key), otherwise the same parse, the same transaction and the
  // same rules as Ingest, stored with source `sync`. A stored event is a duplicate, whichever
  // way it came first. Throws as Ingest does.
  IngestResult IngestFetched(std::string_view payload, const Actor& actor);

  // How a stored event is applied again. kOperator: an operator chose it, and the newest event
  // of a subscription may take over a tenant whose subscription ended against that
  // subscription's clock (the way out of a two-subscription conflict). kRetry: exactly as a
  // late delivery of it would be (reconcile retrying an event that found no tenant).
  enum class ReplayMode { kOperator, kRetry };

  // Applies a stored event again, by the same rules; audited. kNotFound for an unknown id.
  db::EventRecord Replay(const std::string& event_id, const Actor& actor,
                         ReplayMode mode = ReplayMode::kOperator);

 private:
  // Stores and applies a verified, parsed event in one (possibly shared) transaction.
  IngestResult Store(const StripeEvent& event, std::string_view payload, const Actor& actor,
                     domain::EventSource source);
  // Finds the tenant, decides, writes the row, audits, records the outcome, in `unit`.
  // `previous_outcome` is the stored outcome of a replayed event (nullopt on first delivery).
  // With `unstored`, the event's row is not stored yet: it is inserted last, with its outcome,
  // and when it turns out stored already, Process throws (its effects are written by then: the
  // transaction must roll back). Without it, the stored row's outcome is updated.
  struct ProcessMode {
    bool replay = false;              // a stored event applied again (counted as a replay)
    bool operator_replay = false;     // ReplayMode::kOperator
    bool notify_only_recent = false;  // fetched or retried: notifies within kNotifyWithin only
  };
  domain::EventOutcome Process(db::UnitOfWork& unit, const StripeEvent& event, const Actor& actor,
                               std::optional<domain::EventOutcome> previous_outcome,
                               ProcessMode mode, db::EventRecord* unstored);

  db::Database& database_;
  const common::Config& config_;
  const common::Clock& clock_;
  BillingNotifications& notifications_;
  PlanPrices prices_;
  db::GroupCommit group_commit_;  // last: its writers stop before the rest goes
};

}  // namespace paybell::webhooks

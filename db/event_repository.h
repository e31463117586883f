// billing_events: every Stripe event, once, with what processing decided.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "db/job_lock.h"
#include "server/domain/event_outcome.h"

namespace paybell::db {

struct EventRecord {
  std::string event_id;
  std::string type;
  int64_t created = 0;
  bool livemode = false;
  std::string tenant_id;
  std::string stripe_customer_id;
  std::string stripe_subscription_id;
  std::string payload;  // raw body; empty in list results
  domain::EventOutcome outcome = domain::EventOutcome::kFailed;
  std::string error;
  int64_t duplicate_deliveries = 0;
  int64_t replay_count = 0;
  int64_t received_at = 0;
  std::optional<int64_t> processed_at;
  domain::EventSource source = domain::EventSource::kWebhook;
};

struct EventFilter {
  std::string tenant_id;  // "" = any
  std::string type;       // "" = any
  std::optional<domain::EventOutcome> outcome;
  std::optional<int64_t> received_at_or_after;
  std::optional<int64_t> received_before;
  // Keyset cursor: events strictly older than (received_at, event_id) in newest-first order.
  std::optional<std::pair<int64_t, std::string>> before;
  int limit = 50;
};

class EventRepository {
 public:
  virtual ~EventRepository() = default;
  // Inserts the event unless its id is already stored (with its outcome, tenant and
  // processed_at when already decided). True when this call stored it; false
  // for a duplicate (also when a concurrent transaction stored it first). Taken by value: the
  // statement binds its own copy, and a caller done with the record moves its payload in.
  virtual bool InsertIfNew(EventRecord event) = 0;
  // Counts a repeated delivery of an already stored event.
  virtual void CountDuplicateDelivery(const std::string& event_id) = 0;
  // Records what processing decided; `replayed` counts an operator's replay.
  virtual void SetOutcome(const std::string& event_id, const std::string& tenant_id,
                          domain::EventOutcome outcome, const std::string& error,
                          int64_t processed_at, bool replayed) = 0;
  virtual std::optional<EventRecord> Find(const std::string& event_id, bool with_payload) = 0;
  // Which of these event ids are stored, each once, in no particular order; one round trip per
  // 100 ids (a page of Stripe's event list).
  virtual std::vector<std::string> StoredAmong(const std::vector<std::string>& event_ids) = 0;
  // Newest first (received_at, event_id).
  virtual std::vector<EventRecord> List(const EventFilter& filter) = 0;
  // The newest Stripe `created` among the stored customer.subscription.* events of this
  // subscription, whatever their outcome; nullopt when none is stored.
  virtual std::optional<int64_t> NewestSubscriptionEventCreated(
      const std::string& stripe_subscription_id) = 0;
  // Until when (a Unix time) completed catch-ups have covered Stripe's event list; nullopt
  // before the first one.
  virtual std::optional<int64_t> SyncedUntil() = 0;
  // Records a completed catch-up's coverage; an earlier time than the stored one is ignored.
  virtual void SetSyncedUntil(int64_t covered_until) = 0;
  // When the last scheduled run of `job` completed; nullopt before the first.
  virtual std::optional<int64_t> LastFinished(Job job) = 0;
  virtual void SetLastFinished(Job job, int64_t at) = 0;
};

}  // namespace paybell::db

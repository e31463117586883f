// Storage of billing_events (every Stripe event, once) and the lookups webhook application
// needs. Functions take the caller's session so they join its transaction.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "db/pool.h"

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
  std::string outcome;  // applied | duplicate | stale | ignored | unmatched | failed
  std::string error;
  int64_t duplicate_deliveries = 0;
  int64_t replay_count = 0;
  int64_t received_at = 0;
  std::optional<int64_t> processed_at;
};

struct EventFilter {
  std::string tenant_id;  // "" = any
  std::string type;       // "" = any
  std::string outcome;    // "" = any
  std::optional<int64_t> received_at_or_after;
  std::optional<int64_t> received_before;
  // Keyset cursor: events strictly older than (received_at, event_id) in newest-first order.
  std::optional<std::pair<int64_t, std::string>> before;
  int limit = 50;
};

namespace event_sql {

// Inserts the event unless its id is already stored. True when this call stored it; false for
// a duplicate (also when a concurrent transaction stored it first).
bool InsertIfNew(soci::session& session, const EventRecord& event);
// Counts a repeated delivery of an already stored event.
void CountDuplicateDelivery(soci::session& session, const std::string& event_id);
// Records what processing decided.
void SetOutcome(soci::session& session, const std::string& event_id, const std::string& tenant_id,
                const std::string& outcome, const std::string& error, int64_t processed_at,
                bool replayed);
std::optional<EventRecord> Find(soci::session& session, const std::string& event_id,
                                bool with_payload);
std::vector<EventRecord> List(soci::session& session, const EventFilter& filter);

}  // namespace event_sql

namespace tenant_lookup_sql {
// The tenant whose stored subscription has this Stripe subscription id, else this customer id.
std::optional<std::string> FindTenantByStripeIds(soci::session& session,
                                                 const std::string& subscription_id,
                                                 const std::string& customer_id);
// Serialises the transactions that change one tenant's subscription until this one ends, also
// before the tenant has a row (PostgreSQL: a per-tenant advisory lock). SQLite's BEGIN
// IMMEDIATE already serialises every writer, so there it does nothing.
void LockTenant(soci::session& session, DatabaseKind kind, const std::string& tenant_id);
}  // namespace tenant_lookup_sql

}  // namespace paybell::db

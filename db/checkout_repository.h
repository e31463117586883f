// Storage of checkout_sessions: every checkout Paybell started for a tenant.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "db/pool.h"

namespace paybell::db {

struct CheckoutSessionRecord {
  std::string session_id;
  std::string tenant_id;
  std::string plan;
  std::string url;
  bool stub = false;
  std::string coupon_code;
  std::string promotion_code_id;
  std::string idempotency_key;
  std::string created_by;
  int64_t created_at = 0;
};

namespace checkout_sql {
// Inserts the session; a session id seen before (Stripe answered a retried request with the
// same session) is left as it is.
void Insert(soci::session& session, const CheckoutSessionRecord& record);
// Marks a session complete when Stripe reports it (checkout.session.completed).
void MarkComplete(soci::session& session, const std::string& session_id, int64_t at);
// Sessions of the tenant still recorded as open (Stripe's expire after 24 hours), created at or
// after `since`: (session_id, idempotency_key). Stub sessions are never listed.
std::vector<std::pair<std::string, std::string>> ListOpen(soci::session& session,
                                                          const std::string& tenant_id,
                                                          int64_t since);
// Records what Stripe says a session became ("expired", "complete").
void SetStatus(soci::session& session, const std::string& session_id, const std::string& status);
// "open", "complete", … or "" when unknown.
std::string StatusOf(soci::session& session, const std::string& session_id);
}  // namespace checkout_sql

}  // namespace paybell::db

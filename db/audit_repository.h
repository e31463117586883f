// Appends to audit_log: who did what to which tenant, and when.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "db/pool.h"

namespace paybell::db {

struct AuditEntry {
  int64_t at = 0;
  std::string actor;       // token "sub", "stripe" for webhooks
  std::string actor_role;  // token role, "" for Stripe
  std::string tenant_id;
  std::string action;  // e.g. "billing.event.applied"
  std::string target;  // e.g. the event id
  std::string detail;  // JSON object, never secrets
  std::string request_id;
};

namespace audit_sql {
void Insert(soci::session& session, const AuditEntry& entry);
// Newest first; for tests and operators.
std::vector<AuditEntry> ListForTenant(soci::session& session, const std::string& tenant_id,
                                      int limit);
}  // namespace audit_sql

}  // namespace paybell::db

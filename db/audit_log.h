// audit_log: who did what to which tenant, and when.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

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

class AuditLog {
 public:
  virtual ~AuditLog() = default;
  virtual void Append(const AuditEntry& entry) = 0;
  // Newest first; for tests and operators.
  virtual std::vector<AuditEntry> ListForTenant(const std::string& tenant_id, int limit) = 0;
};

}  // namespace paybell::db

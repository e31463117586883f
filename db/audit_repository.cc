#include "db/audit_repository.h"

#include <string_view>

#include "db/row_access.h"

namespace paybell::db {
namespace {

constexpr std::string_view kInsertAudit = R"sql(
INSERT INTO audit_log (at, actor, actor_role, tenant_id, action, target, detail, request_id)
VALUES (:at, :actor, :actor_role, :tenant_id, :action, :target, :detail, :request_id))sql";

constexpr std::string_view kListForTenant = R"sql(
SELECT at, actor, actor_role, tenant_id, action, target, detail, request_id
FROM audit_log WHERE tenant_id = :tenant_id ORDER BY id DESC LIMIT :limit)sql";

}  // namespace

namespace audit_sql {

void Insert(soci::session& session, const AuditEntry& e) {
  long long at = e.at;
  const std::string detail = e.detail.empty() ? "{}" : e.detail;
  session << kInsertAudit, soci::use(at), soci::use(e.actor), soci::use(e.actor_role),
      soci::use(e.tenant_id), soci::use(e.action), soci::use(e.target), soci::use(detail),
      soci::use(e.request_id);
}

std::vector<AuditEntry> ListForTenant(soci::session& session, const std::string& tenant_id,
                                      int limit) {
  std::vector<AuditEntry> out;
  soci::rowset<soci::row> rows =
      (session.prepare << kListForTenant, soci::use(tenant_id), soci::use(limit));
  for (const soci::row& row : rows) {
    AuditEntry e;
    e.at = GetInt(row, "at");
    e.actor = GetString(row, "actor");
    e.actor_role = GetString(row, "actor_role");
    e.tenant_id = GetString(row, "tenant_id");
    e.action = GetString(row, "action");
    e.target = GetString(row, "target");
    e.detail = GetString(row, "detail");
    e.request_id = GetString(row, "request_id");
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace audit_sql

}  // namespace paybell::db

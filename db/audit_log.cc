#include <string_view>

#include "db/row_access.h"
#include "db/soci_repositories.h"

namespace paybell::db {
namespace {

constexpr std::string_view kInsertAudit = R"sql(
INSERT INTO audit_log (at, actor, actor_role, tenant_id, action, target, detail, request_id)
VALUES (:at, :actor, :actor_role, :tenant_id, :action, :target, :detail, :request_id))sql";

constexpr std::string_view kListForTenant = R"sql(
SELECT at, actor, actor_role, tenant_id, action, target, detail, request_id
FROM audit_log WHERE tenant_id = :tenant_id ORDER BY id DESC LIMIT :limit)sql";

}  // namespace

void SociAuditLog::Append(const AuditEntry& e) {
  entry_ = e;
  if (entry_.detail.empty()) entry_.detail = "{}";
  at_ = e.at;
  append_.Execute(session_, [&](soci::session& s) {
    return (s.prepare << kInsertAudit, soci::use(at_), soci::use(entry_.actor),
            soci::use(entry_.actor_role), soci::use(entry_.tenant_id), soci::use(entry_.action),
            soci::use(entry_.target), soci::use(entry_.detail), soci::use(entry_.request_id));
  });
}

std::vector<AuditEntry> SociAuditLog::ListForTenant(const std::string& tenant_id, int limit) {
  std::vector<AuditEntry> out;
  soci::rowset<soci::row> rows =
      (session_.prepare << kListForTenant, soci::use(tenant_id), soci::use(limit));
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

void SociAuditLog::ForgetServerStatements(bool postgres) { append_.ForgetOnServer(postgres); }

}  // namespace paybell::db

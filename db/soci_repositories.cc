#include "db/soci_repositories.h"

#include <nlohmann/json.hpp>
#include <string_view>

namespace paybell::db {
namespace {

// The two-int form keeps these keys apart from the single-bigint migration lock.
constexpr std::string_view kLockTenantPostgres =
    "SELECT pg_advisory_xact_lock(7292, hashtext(:tenant_id))";
// Locks in the order of the lock keys, not of the names: two transactions locking overlapping
// sets then never wait for each other in a cycle, even when two names share a hash. (The sorted
// subquery's rows reach the outer projection in order; the volatile lock function runs there.)
constexpr std::string_view kLockTenantsPostgres =
    "SELECT pg_advisory_xact_lock(7292, k) FROM (SELECT DISTINCT hashtext(t) AS k "
    "FROM json_array_elements_text(CAST(:tenant_ids AS json)) AS t ORDER BY k) AS keys";

}  // namespace

void SociRepositories::LockTenants(const std::vector<std::string>& tenant_ids) {
  if (kind_ != DatabaseKind::kPostgres || tenant_ids.empty()) return;
  if (tenant_ids.size() == 1) {
    lock_key_ = tenant_ids.front();
    lock_tenant_.Execute(session_, [&](soci::session& s) {
      return (s.prepare << kLockTenantPostgres, soci::use(lock_key_));
    });
    return;
  }
  lock_key_ = nlohmann::json(tenant_ids).dump();
  lock_tenants_.Execute(session_, [&](soci::session& s) {
    return (s.prepare << kLockTenantsPostgres, soci::use(lock_key_));
  });
}

void SociRepositories::Ping() {
  ping_statement_.QueryOne(
      session_, [&](soci::session& s) { return (s.prepare << "SELECT 1", soci::into(ping_)); },
      [] {});
}

void SociRepositories::ForgetServerStatements(bool postgres) {
  lock_tenant_.ForgetOnServer(postgres);
  lock_tenants_.ForgetOnServer(postgres);
  ping_statement_.ForgetOnServer(postgres);
  subscriptions.ForgetServerStatements(postgres);
  events.ForgetServerStatements(postgres);
  checkouts.ForgetServerStatements(postgres);
  audit.ForgetServerStatements(postgres);
  notifications.ForgetServerStatements(postgres);
  invoices.ForgetServerStatements(postgres);
  sessions.ForgetServerStatements(postgres);
}

}  // namespace paybell::db

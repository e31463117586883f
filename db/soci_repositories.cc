#include "db/soci_repositories.h"

#include <string_view>

namespace paybell::db {
namespace {

// The two-int form keeps these keys apart from the single-bigint migration lock.
constexpr std::string_view kLockTenantPostgres =
    "SELECT pg_advisory_xact_lock(7292, hashtext(:tenant_id))";

}  // namespace

void SociRepositories::LockTenant(const std::string& tenant_id) {
  if (kind_ != DatabaseKind::kPostgres) return;
  lock_key_ = tenant_id;
  lock_tenant_.Execute(session_, [&](soci::session& s) {
    return (s.prepare << kLockTenantPostgres, soci::use(lock_key_));
  });
}

void SociRepositories::Ping() {
  ping_statement_.QueryOne(
      session_, [&](soci::session& s) { return (s.prepare << "SELECT 1", soci::into(ping_)); },
      [] {});
}

void SociRepositories::ForgetServerStatements(bool postgres) {
  lock_tenant_.ForgetOnServer(postgres);
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

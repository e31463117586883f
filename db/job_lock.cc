#include "db/job_lock.h"

#include <spdlog/spdlog.h>

#include "db/connection.h"
#include "server/common/error.h"

namespace paybell::db {

namespace {

// The two-key form of the advisory lock functions, whose key space never meets the one-key
// form the tenant locks use. The first key names the installation: its schema, so that
// installations (or test runs) sharing one PostgreSQL database in different schemas do not
// hold each other's jobs back; the second names the job.
constexpr char kSpace[] = "hashtext('paybell jobs:' || current_schema())";

}  // namespace

JobLock::JobLock(const common::DatabaseUrl& url) : url_(url) {}

JobLock::~JobLock() = default;

bool JobLock::TryAcquire(Job job) {
  if (url_.kind != common::DatabaseKind::kPostgres) return true;
  std::lock_guard<std::mutex> lock(mutex_);
  try {
    if (!connection_) connection_ = std::make_unique<Connection>(url_);
    connection_->EnsureUsable();
    int key = static_cast<int>(job);
    int acquired = 0;
    connection_->session() << std::string("SELECT CASE WHEN pg_try_advisory_lock(") + kSpace +
                                  ", :key) THEN 1 ELSE 0 END",
        soci::use(key), soci::into(acquired);
    return acquired == 1;
  } catch (const common::Error&) {
    throw;
  } catch (const std::exception& e) {
    if (connection_) connection_->Discard();
    throw common::Error(common::ErrorCode::kUnavailable,
                        std::string("background job lock: database unavailable: ") + e.what());
  }
}

void JobLock::Release(Job job) {
  if (url_.kind != common::DatabaseKind::kPostgres) return;
  std::lock_guard<std::mutex> lock(mutex_);
  if (!connection_) return;
  try {
    int key = static_cast<int>(job);
    int released = 0;
    connection_->session() << std::string("SELECT CASE WHEN pg_advisory_unlock(") + kSpace +
                                  ", :key) THEN 1 ELSE 0 END",
        soci::use(key), soci::into(released);
  } catch (const std::exception& e) {
    // The session is gone, and its locks with it.
    spdlog::warn("background job lock: release failed ({}); the lost connection released it",
                 e.what());
    connection_->Discard();
  }
}

}  // namespace paybell::db

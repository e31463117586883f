#include "db/errors.h"

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <spdlog/spdlog.h>

#include <string>

#include "db/connection.h"
#include "server/common/error.h"

namespace paybell::db {

using common::Error;
using common::ErrorCode;

DatabaseFailure ClassifyFailure(const std::exception& e, Connection& connection) {
  if (dynamic_cast<const Error*>(&e) != nullptr) return DatabaseFailure::kOther;
  if (connection.IsBroken()) return DatabaseFailure::kConnectionLost;
  const auto* soci_error = dynamic_cast<const soci::soci_error*>(&e);
  if (soci_error == nullptr) return DatabaseFailure::kOther;
  if (soci_error->get_error_category() == soci::soci_error::connection_error ||
      soci_error->get_error_message() == "Session is not connected.") {
    return DatabaseFailure::kConnectionLost;
  }
  if (const auto* pg = dynamic_cast<const soci::postgresql_soci_error*>(&e)) {
    const std::string state = pg->sqlstate();
    if (state == "40001" || state == "40P01") return DatabaseFailure::kConflict;
    // Class 08 (connection exception) and the server shutting down or starting up.
    if (state.rfind("08", 0) == 0 || state == "57P01" || state == "57P02" || state == "57P03") {
      return DatabaseFailure::kConnectionLost;
    }
  }
  return DatabaseFailure::kOther;
}

std::string ErrorMessage(const std::exception& e) {
  if (const auto* soci_error = dynamic_cast<const soci::soci_error*>(&e)) {
    return soci_error->get_error_message();
  }
  return e.what();
}

void RethrowAsDomainError(std::string_view what) {
  try {
    throw;
  } catch (const Error&) {
    throw;
  } catch (const soci::soci_error& e) {
    const std::string message = e.get_error_message();
    switch (e.get_error_category()) {
      case soci::soci_error::constraint_violation:
        // Only a unique key means "already exists". CHECK, NOT NULL and foreign keys guard
        // values validated before they reach the database, so tripping one is a bug.
        if (message.find("UNIQUE") != std::string::npos ||
            message.find("unique") != std::string::npos ||
            message.find("duplicate key") != std::string::npos) {
          throw Error(ErrorCode::kAlreadyExists, std::string(what) + ": already exists");
        }
        break;
      case soci::soci_error::connection_error:
        spdlog::warn("database unavailable during {}: {}", what, message);
        throw Error(ErrorCode::kUnavailable, std::string(what) + ": database unavailable");
      default:
        break;
    }
    // SQLite reports a held write lock as "database is locked" with no category.
    if (message.find("database is locked") != std::string::npos ||
        message.find("database is busy") != std::string::npos) {
      throw Error(ErrorCode::kUnavailable, std::string(what) + ": database busy");
    }
    spdlog::error("database error during {}: {}", what, message);
    throw Error(ErrorCode::kInternal, std::string(what) + ": database error");
  } catch (const std::exception& e) {
    spdlog::error("unexpected error during {}: {}", what, ErrorMessage(e));
    throw Error(ErrorCode::kInternal, std::string(what) + ": internal error");
  }
}

}  // namespace paybell::db

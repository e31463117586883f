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
    // Class 08 (connection exception), the server shutting down or starting up, and a
    // read-only standby (a failover moved the primary: a new connection finds it, when
    // DATABASE_URL lists the hosts with target_session_attrs=read-write).
    if (state.rfind("08", 0) == 0 || state == "57P01" || state == "57P02" || state == "57P03" ||
        state == "25006") {
      return DatabaseFailure::kConnectionLost;
    }
    // Class 53 (out of memory, disk, connections) and a statement the server cancelled.
    if (state.rfind("53", 0) == 0 || state == "57014") return DatabaseFailure::kUnavailable;
  }
  return DatabaseFailure::kOther;
}

std::string ErrorMessage(const std::exception& e) {
  const auto* soci_error = dynamic_cast<const soci::soci_error*>(&e);
  if (soci_error == nullptr) return e.what();
  std::string message = soci_error->get_error_message();
  for (const char* field : {"\nDETAIL:", "\nHINT:", "\nCONTEXT:"}) {
    const size_t at = message.find(field);
    if (at != std::string::npos) message.resize(at);
  }
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
    message.pop_back();
  }
  if (const auto* pg = dynamic_cast<const soci::postgresql_soci_error*>(&e)) {
    message += " (SQLSTATE " + pg->sqlstate() + ")";
  }
  return message;
}

void RethrowAsDomainError(std::string_view what) {
  try {
    throw;
  } catch (const Error&) {
    throw;
  } catch (const soci::soci_error& e) {
    const std::string message = ErrorMessage(e);
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

#include "db/errors.h"

#include <soci/soci.h>
#include <spdlog/spdlog.h>

#include <string>

#include "server/common/error.h"

namespace paybell::db {

using common::Error;
using common::ErrorCode;

bool IsConnectionLost(const std::exception& e) {
  const auto* soci_error = dynamic_cast<const soci::soci_error*>(&e);
  return soci_error != nullptr &&
         soci_error->get_error_category() == soci::soci_error::connection_error;
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
    spdlog::error("unexpected error during {}: {}", what, e.what());
    throw Error(ErrorCode::kInternal, std::string(what) + ": internal error");
  }
}

}  // namespace paybell::db

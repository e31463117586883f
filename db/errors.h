// The one mapping from SOCI/database errors to domain errors.
#pragma once

#include <exception>
#include <string>
#include <string_view>

namespace paybell::db {

class Connection;

enum class DatabaseFailure {
  kConnectionLost,  // the server went away (or became a read-only standby): reconnect, the
                    // unit may run again
  kConflict,        // serialization failure or deadlock: run the unit again
  kUnavailable,     // the server is out of resources or cancelled the statement: retry later
  kOther,           // anything else: map with RethrowAsDomainError
};

// Classifies an exception thrown while `connection` was in use. A PostgreSQL connection libpq
// reports as bad counts as lost whatever the message said, and so does SOCI's "Session is not
// connected.", which it throws outside its connection-error category.
DatabaseFailure ClassifyFailure(const std::exception& e, Connection& connection);

// The error's own message, without the statement and bound values SOCI appends to what() and
// without PostgreSQL's DETAIL, HINT and CONTEXT lines ("Failing row contains (…)" is a whole
// row): those may hold payloads and personal data, which logs must not. PostgreSQL's SQLSTATE
// is appended instead.
std::string ErrorMessage(const std::exception& e);

// Call from a catch block: rethrows the current exception as common::Error. Unique-key
// violations become kAlreadyExists, busy databases kUnavailable, anything else kInternal.
// `what` names the operation for the message ("read subscription").
[[noreturn]] void RethrowAsDomainError(std::string_view what);

}  // namespace paybell::db

// The one mapping from SOCI/database errors to domain errors.
#pragma once

#include <exception>
#include <string_view>

namespace paybell::db {

// Call from a catch block: rethrows the current exception as common::Error. Constraint
// violations become kAlreadyExists, lost connections and busy databases kUnavailable, and
// anything else kInternal. `what` names the operation for the message ("read subscription").
[[noreturn]] void RethrowAsDomainError(std::string_view what);

// Whether the current exception is a lost connection worth one reconnect-and-retry.
bool IsConnectionLost(const std::exception& e);

}  // namespace paybell::db

// The generated development JWT secret kept in <data-dir>/jwt-secret.
#pragma once

#include <string>

namespace paybell::auth {

// Returns the secret stored at `path`, creating it (32 random bytes, hex, mode 0600) when
// absent. Safe when several processes start at once: exactly one file wins. Throws
// std::runtime_error when the file cannot be read or written, or is readable by others.
std::string LoadOrCreateSecretFile(const std::string& path);

}  // namespace paybell::auth

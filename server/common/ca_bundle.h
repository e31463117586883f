// The CAs outbound TLS trusts: the system's bundle plus PAYBELL_CA_FILE.
#pragma once

#include <string>

namespace paybell::common {

// Where Debian's ca-certificates keeps the system bundle (libcurl's built-in default here).
inline constexpr char kSystemCaBundle[] = "/etc/ssl/certs/ca-certificates.crt";

// The PEM text to hand libcurl as CURLOPT_CAINFO_BLOB: the system bundle followed by
// `extra_ca_file`. Empty when `extra_ca_file` is empty, meaning "leave libcurl's default alone".
// libcurl loads a CAINFO blob *instead of* its default CA file, so a blob holding only the
// extra CA would drop the system's CAs; hence both in one blob. Throws common::Error
// (kUnavailable) when the extra file cannot be read.
std::string CombinedCaBundle(const std::string& extra_ca_file,
                             const std::string& system_bundle = kSystemCaBundle);

}  // namespace paybell::common

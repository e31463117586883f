// Small byte encodings used across Paybell: hex, base64url, and random hex tokens.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace paybell::common {

// Lowercase hex of `size` bytes.
std::string HexEncode(const unsigned char* data, size_t size);

// `bytes` random bytes from the kernel (getrandom), as lowercase hex.
std::string RandomHex(size_t bytes);

// `bytes` random bytes from the kernel (getrandom), as unpadded base64url (session ids, CSRF
// tokens: compact in cookies and URLs).
std::string RandomBase64Url(size_t bytes);

// URL-safe base64 without padding, and back; nullopt for a character outside the alphabet.
std::string Base64UrlEncode(std::string_view data);
std::optional<std::string> Base64UrlDecode(std::string_view text);

}  // namespace paybell::common

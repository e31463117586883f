// RFC 5322 / MIME email building for the SMTP transport: headers (RFC 2047 for non-ASCII),
// multipart/alternative text + HTML bodies in quoted-printable, CRLF line endings throughout.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "server/notifications/delivery.h"

namespace paybell::notifications {

// The whole message as it goes into SMTP DATA, with CRLF line endings and no dot-stuffing:
// libcurl stuffs leading dots of an SMTP upload itself (and adds the final "."), so doing it
// here would double them. Date is `now` in UTC; Message-ID and the MIME boundary are random.
// Throws common::Error(kInvalidArgument) when a header name or value holds CR, LF or NUL, an
// address is not a plain addr-spec, there is no recipient, or an extra header would replace
// one this function writes (From, To, Cc, Bcc, Subject, Date, …).
std::string BuildMimeMessage(const EmailMessage& message,
                             std::chrono::system_clock::time_point now);

// The addr-spec of a mailbox: "Paybell <alerts@example.com>" → "alerts@example.com", a bare
// "alerts@example.com" as is. Throws common::Error(kInvalidArgument) when it is not one plain
// address (no spaces, quotes, angle brackets, commas or control characters in it).
std::string AddressSpec(std::string_view mailbox);

// "Tue, 05 Mar 2024 14:03:09 +0000" (RFC 5322 section 3.3, always UTC, English names).
std::string Rfc5322Date(std::chrono::system_clock::time_point time);

// One header field, "Name: value" folded to lines of at most 78 characters where the value
// allows it, without the final CRLF. Values that are not printable ASCII (or that contain "=?",
// which a reader would take for an encoded-word) become RFC 2047 "=?UTF-8?B?…?=" words of at most
// 75 characters, each holding whole UTF-8 characters. Throws common::Error(kInvalidArgument) on
// CR, LF or NUL in name or value, or a name that is not printable ASCII without ':'.
std::string HeaderField(std::string_view name, std::string_view value);

// Quoted-printable (RFC 2045 section 6.7) with CRLF hard line breaks (LF and CRLF in `text`
// both count as a break) and encoded lines of at most 76 characters.
std::string QuotedPrintable(std::string_view text);

}  // namespace paybell::notifications

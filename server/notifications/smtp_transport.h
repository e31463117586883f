// EmailTransport over libcurl SMTP: STARTTLS required for smtp://, TLS from the start for
// smtps://, plain only for smtp+insecure:// (local tests); the CAs are the system's plus
// PAYBELL_CA_FILE.
#pragma once

#include <chrono>
#include <string>

#include "server/common/config.h"
#include "server/notifications/curl_easy.h"
#include "server/notifications/delivery.h"

namespace paybell::notifications {

struct SmtpTransportOptions {
  common::SmtpConfig smtp;  // SMTP_URL, credentials already percent-decoded
  std::string ca_file;      // PAYBELL_CA_FILE: trusted besides the system's
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds total_timeout{30000};
};

class SmtpTransport final : public EmailTransport {
 public:
  // Throws common::Error(kInvalidArgument) for an unknown scheme, kUnavailable when ca_file
  // cannot be read.
  explicit SmtpTransport(SmtpTransportOptions options);
  // Builds the MIME message (a message that cannot be built is permanent), then one SMTP
  // transaction. The error never holds the password.
  DeliveryResult Send(const EmailMessage& message) override;

 private:
  SmtpTransportOptions options_;
  std::string url_;  // smtp:// or smtps://host:port, no credentials
  bool require_tls_ = true;
  TrustedCas cas_;  // system CAs + ca_file, parsed once
  // Handles keep their SMTP connection between messages (libcurl sends the next MAIL FROM on
  // it; the server closing it idle only costs a new connection).
  CurlHandlePool handles_;
};

}  // namespace paybell::notifications

#include "server/notifications/smtp_transport.h"

#include <algorithm>
#include <cstring>

#include "server/common/error.h"
#include "server/notifications/classification.h"
#include "server/notifications/curl_easy.h"
#include "server/notifications/mime.h"

namespace paybell::notifications {

using common::Error;
using common::ErrorCode;

namespace {

struct Upload {
  std::string_view data;
  size_t sent = 0;
};

size_t ReadUpload(char* buffer, size_t size, size_t count, void* in) {
  auto* upload = static_cast<Upload*>(in);
  const size_t n = std::min(size * count, upload->data.size() - upload->sent);
  std::memcpy(buffer, upload->data.data() + upload->sent, n);
  upload->sent += n;
  return n;
}

DeliveryResult Unsendable(const std::string& why) {
  DeliveryResult result;
  result.kind = DeliveryResult::Kind::kPermanent;
  result.error = "email cannot be built: " + why;
  return result;
}

}  // namespace

SmtpTransport::SmtpTransport(SmtpTransportOptions options)
    : options_(std::move(options)), cas_(options_.ca_file) {
  const auto& smtp = options_.smtp;
  std::string scheme;
  if (smtp.scheme == "smtp") {
    scheme = "smtp";  // libcurl upgrades with STARTTLS; CURLUSESSL_ALL makes it mandatory
  } else if (smtp.scheme == "smtps") {
    scheme = "smtps";
  } else if (smtp.scheme == "smtp+insecure") {
    scheme = "smtp";
    require_tls_ = false;
  } else {
    throw Error(ErrorCode::kInvalidArgument, "SMTP scheme must be smtp, smtps or smtp+insecure");
  }
  const bool v6 = smtp.host.find(':') != std::string::npos;
  url_ =
      scheme + "://" + (v6 ? "[" + smtp.host + "]" : smtp.host) + ":" + std::to_string(smtp.port);
}

DeliveryResult SmtpTransport::Send(const EmailMessage& message) {
  std::string mime;
  std::string envelope_from;
  CurlSlist recipients;
  try {
    mime = BuildMimeMessage(message, std::chrono::system_clock::now());
    envelope_from = "<" + AddressSpec(message.from) + ">";
    for (const auto& to : message.to) {
      recipients.reset(
          curl_slist_append(recipients.release(), ("<" + AddressSpec(to) + ">").c_str()));
    }
  } catch (const Error& e) {
    return Unsendable(e.what());
  }

  PooledCurl curl(handles_);
  if (!curl) return ClassifySmtpResult(0, "curl_easy_init failed");
  CURL* c = curl.get();
  Upload upload{mime};
  SetCommonOptions(c, cas_);
  curl_easy_setopt(c, CURLOPT_URL, url_.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(
      c, CURLOPT_USE_SSL,
      require_tls_ ? static_cast<long>(CURLUSESSL_ALL) : static_cast<long>(CURLUSESSL_NONE));
  if (!options_.smtp.user.empty()) {
    curl_easy_setopt(c, CURLOPT_USERNAME, options_.smtp.user.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, options_.smtp.password.c_str());
  }
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, envelope_from.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, recipients.get());
  // One recipient the server refuses (a mailbox that no longer exists) must not keep the
  // message from the others: the transaction goes on while at least one RCPT is accepted.
#if LIBCURL_VERSION_NUM >= 0x080200
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT_ALLOWFAILS, 1L);
#else
  // libcurl before 8.2 (Debian 12 has 7.88) spells the option with three Ls.
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT_ALLLOWFAILS, 1L);
#endif
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_READFUNCTION, ReadUpload);
  curl_easy_setopt(c, CURLOPT_READDATA, &upload);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.total_timeout.count()));

  const CURLcode rc = curl_easy_perform(c);
  long reply = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply);
  // curl_easy_strerror names the failure only: no host, user or password in it.
  return ClassifySmtpResult(reply, rc == CURLE_OK ? "" : curl_easy_strerror(rc));
}

}  // namespace paybell::notifications

// SmtpTransport against a real SMTP server (Debian's aiosmtpd) on loopback: STARTTLS with a
// throwaway CA trusted through PAYBELL_CA_FILE, the message read back by Python's email
// package; no fall-back to plain text; replies and failures classified.
#include "server/notifications/smtp_transport.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/common/config.h"
#include "tests/support/peers.h"

namespace paybell::notifications {
namespace {

using paybell::testing::CapturedMail;
using paybell::testing::ParseMailWithPython;
using paybell::testing::SmtpPeer;
using paybell::testing::TestPki;
using ::testing::HasSubstr;
using ::testing::Not;
using Kind = DeliveryResult::Kind;

// Through LoadConfig, as the server reads SMTP_URL: credentials come percent-decoded.
common::SmtpConfig SmtpFromUrl(const std::string& url) {
  return *common::LoadConfig([&](const std::string& name) -> std::optional<std::string> {
            if (name == "SMTP_URL") return url;
            return std::nullopt;
          }).smtp;
}

EmailMessage Message() {
  EmailMessage m;
  m.from = "Paybell <alerts@paybell.example>";
  m.to = {"ops@acme.example", "cfo@acme.example"};
  m.subject = "Zahlung fehlgeschlagen für acme — bitte prüfen";
  m.text =
      "A payment failed for acme.\n.A line that starts with a dot\nPay: "
      "https://billing.example/i/123\n";
  m.html = "<p>A payment failed for <b>acme</b>.</p>\n";
  m.headers = {{"X-Paybell-Trigger", "payment_failed"}};
  return m;
}

SmtpTransportOptions Options(const std::string& url, const std::string& ca_file) {
  SmtpTransportOptions options;
  options.smtp = SmtpFromUrl(url);
  options.ca_file = ca_file;
  return options;
}

std::string Local(const SmtpPeer& peer) { return "127.0.0.1:" + std::to_string(peer.port()); }

TEST(SmtpTransportTest, StartTlsWithTheExtraCaDeliversAMessageMailClientsReadCorrectly) {
  TestPki pki;
  SmtpPeer peer({&pki, false, "paybell:p@ss w0rd", {}});
  SmtpTransport transport(Options("smtp://paybell:p%40ss%20w0rd@" + Local(peer), pki.ca_file));

  const DeliveryResult result = transport.Send(Message());
  ASSERT_EQ(result.kind, Kind::kSent) << result.error;

  const auto mails = peer.WaitForMessages(1);
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0].envelope["tls"], true);
  EXPECT_EQ(mails[0].envelope["login"], "paybell");
  EXPECT_EQ(mails[0].envelope["mail_from"], "alerts@paybell.example");
  EXPECT_EQ(mails[0].envelope["rcpt_tos"],
            nlohmann::json::array({"ops@acme.example", "cfo@acme.example"}));

  const nlohmann::json parsed = ParseMailWithPython(mails[0].eml_path);
  EXPECT_EQ(parsed["defects"], nlohmann::json::array()) << parsed.dump(2);
  const auto& h = parsed["headers"];
  EXPECT_EQ(h["Subject"], Message().subject);
  EXPECT_EQ(h["From"], "Paybell <alerts@paybell.example>");
  EXPECT_EQ(h["To"], "ops@acme.example, cfo@acme.example");
  EXPECT_EQ(h["MIME-Version"], "1.0");
  EXPECT_EQ(h["Auto-Submitted"], "auto-generated");
  EXPECT_EQ(h["X-Paybell-Trigger"], "payment_failed");
  EXPECT_THAT(h["Message-ID"].get<std::string>(), HasSubstr("@paybell.example>"));
  EXPECT_THAT(h["Date"].get<std::string>(), HasSubstr("+0000"));
  EXPECT_EQ(parsed["content_type"], "multipart/alternative");
  ASSERT_EQ(parsed["parts"].size(), 2u);
  EXPECT_EQ(parsed["parts"][0]["content_type"], "text/plain");
  EXPECT_EQ(parsed["parts"][0]["charset"], "utf-8");
  // The dot line arrives with one dot: libcurl stuffed it, the server unstuffed it.
  EXPECT_EQ(parsed["parts"][0]["content"], Message().text);
  EXPECT_EQ(parsed["parts"][1]["content_type"], "text/html");
  EXPECT_EQ(parsed["parts"][1]["content"], Message().html);
}

TEST(SmtpTransportTest, ImplicitTlsWithSmtpsDelivers) {
  TestPki pki;
  SmtpPeer peer({&pki, /*implicit_tls=*/true, "", {}});
  SmtpTransport transport(Options("smtps://" + Local(peer), pki.ca_file));
  const DeliveryResult result = transport.Send(Message());
  ASSERT_EQ(result.kind, Kind::kSent) << result.error;
  const auto mails = peer.WaitForMessages(1);
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0].envelope["tls"], true);
}

TEST(SmtpTransportTest, ACertificateFromAnUntrustedCaIsRetriedAndNothingIsSent) {
  TestPki pki;
  SmtpPeer peer({&pki, false, "", {}});
  SmtpTransport transport(Options("smtp://" + Local(peer), /*ca_file=*/""));
  const DeliveryResult result = transport.Send(Message());
  EXPECT_EQ(result.kind, Kind::kRetry);
  EXPECT_TRUE(peer.Messages().empty());
}

TEST(SmtpTransportTest, SmtpNeverFallsBackToPlainWhenTheServerOffersNoStartTls) {
  TestPki pki;
  SmtpPeer peer({nullptr, false, "", {}});
  SmtpTransport transport(Options("smtp://paybell:hunter2secret@" + Local(peer), pki.ca_file));
  const DeliveryResult result = transport.Send(Message());
  EXPECT_EQ(result.kind, Kind::kRetry) << result.error;
  EXPECT_THAT(result.error, Not(HasSubstr("hunter2secret")));
  EXPECT_TRUE(peer.Messages().empty()) << "a message went out in plain text";
}

TEST(SmtpTransportTest, InsecureSchemeSpeaksPlainSmtpForLocalTests) {
  SmtpPeer peer({nullptr, false, "", {}});
  SmtpTransport transport(Options("smtp+insecure://" + Local(peer), ""));
  const DeliveryResult result = transport.Send(Message());
  ASSERT_EQ(result.kind, Kind::kSent) << result.error;
  const auto mails = peer.WaitForMessages(1);
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0].envelope["tls"], false);
  EXPECT_EQ(ParseMailWithPython(mails[0].eml_path)["headers"]["Subject"], Message().subject);
}

TEST(SmtpTransportTest, TemporaryRepliesAreRetriedPermanentOnesAreNot) {
  TestPki pki;
  SmtpPeer peer({&pki, false, "", {"451 4.3.0 Try again later", "550 5.7.1 Rejected"}});
  SmtpTransport transport(Options("smtp://" + Local(peer), pki.ca_file));
  const DeliveryResult greylisted = transport.Send(Message());
  EXPECT_EQ(greylisted.kind, Kind::kRetry);
  EXPECT_THAT(greylisted.error, HasSubstr("451"));
  const DeliveryResult rejected = transport.Send(Message());
  EXPECT_EQ(rejected.kind, Kind::kPermanent);
  EXPECT_THAT(rejected.error, HasSubstr("550"));
  EXPECT_TRUE(peer.Messages().empty());
  EXPECT_EQ(transport.Send(Message()).kind, Kind::kSent);  // the script is over: accepted
  EXPECT_EQ(peer.WaitForMessages(1).size(), 1u);
}

TEST(SmtpTransportTest, AWrongPasswordIsPermanentAndNeverInTheError) {
  TestPki pki;
  SmtpPeer peer({&pki, false, "paybell:right-password", {}});
  SmtpTransport transport(Options("smtp://paybell:wrong-password-xyz@" + Local(peer), pki.ca_file));
  const DeliveryResult result = transport.Send(Message());
  EXPECT_EQ(result.kind, Kind::kPermanent) << result.error;
  EXPECT_THAT(result.error, Not(HasSubstr("wrong-password-xyz")));
  EXPECT_TRUE(peer.Messages().empty());
}

TEST(SmtpTransportTest, AServerThatNeverAnswersTimesOutAndIsRetried) {
  // A listening socket nobody accepts from: the connect succeeds, the greeting never comes.
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(fd, 4), 0);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  SmtpTransportOptions options =
      Options("smtp://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)), "");
  options.total_timeout = std::chrono::milliseconds(800);
  SmtpTransport transport(options);
  const auto start = std::chrono::steady_clock::now();
  const DeliveryResult result = transport.Send(Message());
  EXPECT_EQ(result.kind, Kind::kRetry);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  close(fd);
}

TEST(SmtpTransportTest, AMessageThatCannotBeBuiltIsPermanentWithoutConnecting) {
  SmtpTransportOptions options = Options("smtp+insecure://127.0.0.1:9", "");
  SmtpTransport transport(options);
  EmailMessage m = Message();
  m.subject = "x\r\nBcc: victim@evil.example";
  const DeliveryResult result = transport.Send(m);
  EXPECT_EQ(result.kind, Kind::kPermanent);
  EXPECT_THAT(result.error, HasSubstr("CR, LF or NUL"));
}

}  // namespace
}  // namespace paybell::notifications

// The email a recipient's client reads: headers present and well-formed, non-ASCII subjects
// that decode back, bodies within SMTP's line limits, and no way to inject a header.
#include "server/notifications/mime.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

#include "server/common/error.h"

namespace paybell::notifications {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// 2024-03-05T14:03:09Z, a Tuesday.
const auto kNow = std::chrono::system_clock::from_time_t(1709647389);

EmailMessage Sample() {
  EmailMessage m;
  m.from = "Paybell <alerts@paybell.example>";
  m.to = {"ops@acme.example", "cfo@acme.example"};
  m.subject = "PSI drift on model-a";
  m.text = "PSI 0.31 on model-a.\n.hidden line starts with a dot\nSettings: https://x.example/s\n";
  m.html = "<p>PSI <b>0.31</b> on model-a.</p>\n";
  return m;
}

std::vector<std::string> Lines(const std::string& message) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < message.size()) {
    const size_t end = message.find("\r\n", start);
    if (end == std::string::npos) {
      out.push_back(message.substr(start));
      break;
    }
    out.push_back(message.substr(start, end - start));
    start = end + 2;
  }
  return out;
}

std::string HeaderBlock(const std::string& message) {
  return message.substr(0, message.find("\r\n\r\n") + 2);
}

// The unfolded value of header `name` in the top-level header block.
std::string Header(const std::string& message, const std::string& name) {
  const std::string block = "\r\n" + HeaderBlock(message);
  const size_t at = block.find("\r\n" + name + ": ");
  if (at == std::string::npos) return "<missing>";
  std::string value;
  size_t i = at + 2 + name.size() + 2;
  for (;;) {
    const size_t end = block.find("\r\n", i);
    value += block.substr(i, end - i);
    if (end + 2 >= block.size() || (block[end + 2] != ' ' && block[end + 2] != '\t')) break;
    i = end + 2;
  }
  return value;
}

std::string DecodeBase64(const std::string& in) {
  static const std::string kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  int bits = 0;
  uint32_t acc = 0;
  for (char c : in) {
    if (c == '=') break;
    acc = acc << 6 | static_cast<uint32_t>(kAlphabet.find(c));
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

bool IsValidUtf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

// Decodes the encoded-words of an unfolded header value; checks each is well-formed on the way.
std::string DecodeEncodedWords(const std::string& value) {
  static const std::regex kWord(R"(=\?UTF-8\?B\?([A-Za-z0-9+/=]*)\?=)");
  std::string out;
  for (auto it = std::sregex_iterator(value.begin(), value.end(), kWord);
       it != std::sregex_iterator(); ++it) {
    EXPECT_LE(it->str().size(), 75u) << it->str();
    const std::string chunk = DecodeBase64((*it)[1]);
    EXPECT_TRUE(IsValidUtf8(chunk)) << "a word splits a UTF-8 character: " << it->str();
    out += chunk;
  }
  return out;
}

std::string DecodeQuotedPrintable(const std::string& in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '=') {
      out += in[i];
    } else if (in.compare(i, 3, "=\r\n") == 0) {
      i += 2;
    } else {
      out += static_cast<char>(std::stoi(in.substr(i + 1, 2), nullptr, 16));
      i += 2;
    }
  }
  return out;
}

void ExpectInvalid(const EmailMessage& m) {
  try {
    BuildMimeMessage(m, kNow);
    ADD_FAILURE() << "built a message that should have been refused";
  } catch (const common::Error& e) {
    EXPECT_EQ(e.code(), common::ErrorCode::kInvalidArgument) << e.what();
  }
}

TEST(MimeTest, WritesEveryHeaderAReaderAndAnAutoresponderLookAt) {
  const std::string mail = BuildMimeMessage(Sample(), kNow);
  EXPECT_EQ(Header(mail, "Date"), "Tue, 05 Mar 2024 14:03:09 +0000");
  EXPECT_TRUE(std::regex_match(Header(mail, "Message-ID"),
                               std::regex(R"(<[0-9a-f]{32}@paybell\.example>)")))
      << Header(mail, "Message-ID");
  EXPECT_EQ(Header(mail, "From"), "Paybell <alerts@paybell.example>");
  EXPECT_EQ(Header(mail, "To"), "ops@acme.example, cfo@acme.example");
  EXPECT_EQ(Header(mail, "Subject"), "PSI drift on model-a");
  EXPECT_EQ(Header(mail, "MIME-Version"), "1.0");
  EXPECT_EQ(Header(mail, "Auto-Submitted"), "auto-generated");
  EXPECT_THAT(Header(mail, "Content-Type"),
              StartsWith("multipart/alternative; boundary=\"=_paybell_"));
}

TEST(MimeTest, MessageIdsAndBoundariesDifferPerMessage) {
  const std::string a = BuildMimeMessage(Sample(), kNow);
  const std::string b = BuildMimeMessage(Sample(), kNow);
  EXPECT_NE(Header(a, "Message-ID"), Header(b, "Message-ID"));
  EXPECT_NE(Header(a, "Content-Type"), Header(b, "Content-Type"));
}

TEST(MimeTest, HasATextAndAnHtmlPartInQuotedPrintableThatDecodeToTheBodies) {
  const std::string mail = BuildMimeMessage(Sample(), kNow);
  const std::string ct = Header(mail, "Content-Type");
  const std::string boundary = ct.substr(ct.find('"') + 1, ct.rfind('"') - ct.find('"') - 1);
  const std::string delimiter = "\r\n--" + boundary;
  std::vector<std::string> parts;
  size_t at = mail.find(delimiter);
  ASSERT_NE(at, std::string::npos);
  while (mail.compare(at + delimiter.size(), 2, "--") != 0) {
    const size_t next = mail.find(delimiter, at + delimiter.size());
    ASSERT_NE(next, std::string::npos);
    parts.push_back(mail.substr(at + delimiter.size() + 2, next - at - delimiter.size() - 2));
    at = next;
  }
  EXPECT_EQ(mail.substr(at + delimiter.size()), "--\r\n");
  ASSERT_EQ(parts.size(), 2u);
  const auto body = [](const std::string& part) { return part.substr(part.find("\r\n\r\n") + 4); };
  EXPECT_THAT(parts[0], StartsWith("Content-Type: text/plain; charset=UTF-8\r\n"
                                   "Content-Transfer-Encoding: quoted-printable\r\n\r\n"));
  EXPECT_THAT(parts[1], StartsWith("Content-Type: text/html; charset=UTF-8\r\n"
                                   "Content-Transfer-Encoding: quoted-printable\r\n\r\n"));
  std::string text = Sample().text;
  std::string expected_text;
  for (char c : text) expected_text += c == '\n' ? std::string("\r\n") : std::string(1, c);
  EXPECT_EQ(DecodeQuotedPrintable(body(parts[0])), expected_text);
  EXPECT_EQ(DecodeQuotedPrintable(body(parts[1])), "<p>PSI <b>0.31</b> on model-a.</p>\r\n");
}

TEST(MimeTest, LeavesDotStuffingToLibcurl) {
  // libcurl doubles a leading dot when it uploads over SMTP; doing it here too would show the
  // reader two dots.
  const std::string mail = BuildMimeMessage(Sample(), kNow);
  EXPECT_THAT(mail, HasSubstr("\r\n.hidden line starts with a dot\r\n"));
  EXPECT_THAT(mail, Not(HasSubstr("\r\n..hidden")));
}

TEST(MimeTest, EveryLineEndsInCrlfAndStaysWithinSmtpLimits) {
  EmailMessage m = Sample();
  m.subject = std::string(300, 'x') + " " + std::string(1200, 'y');  // unfoldable: encoded
  m.text = std::string(5000, 'a') + "\n" + std::string(100, '=') + "\r\nlast   \n";
  m.html = "<p>" + std::string(2000, 'b') + "</p>";
  for (int i = 0; i < 20; ++i) m.to.push_back("recipient" + std::to_string(i) + "@acme.example");
  const std::string mail = BuildMimeMessage(m, kNow);
  EXPECT_EQ(mail.find('\n'), mail.find("\r\n") + 1);
  for (size_t i = 0; i < mail.size(); ++i) {
    if (mail[i] == '\n') {
      ASSERT_EQ(mail[i - 1], '\r') << "bare LF at " << i;
    }
    if (mail[i] == '\r') {
      ASSERT_EQ(mail[i + 1], '\n') << "bare CR at " << i;
    }
  }
  const std::string headers = HeaderBlock(mail);
  for (const auto& line : Lines(headers)) EXPECT_LE(line.size(), 78u) << line;
  for (const auto& line : Lines(mail)) EXPECT_LE(line.size(), 998u);
  for (const auto& line : Lines(mail.substr(headers.size()))) EXPECT_LE(line.size(), 76u) << line;
  EXPECT_EQ(DecodeEncodedWords(Header(mail, "Subject")), m.subject);
}

TEST(MimeTest, NonAsciiSubjectBecomesEncodedWordsThatDecodeBack) {
  const std::vector<std::string> subjects = {
      "Zahlung fehlgeschlagen für Müller & Söhne",
      "支払いに失敗しました — お客様の請求書を確認してください。支払いに失敗しました",
      std::string(50, 'a') + "\xF0\x9F\x92\xB8 money with wings " + "\xF0\x9F\x92\xB8",
      "\xC3\xA9" + std::string(200, 'e') + "\xE2\x82\xAC",
  };
  for (const auto& subject : subjects) {
    EmailMessage m = Sample();
    m.subject = subject;
    const std::string mail = BuildMimeMessage(m, kNow);
    const std::string value = Header(mail, "Subject");
    EXPECT_THAT(value, StartsWith("=?UTF-8?B?"));
    EXPECT_EQ(DecodeEncodedWords(value), subject);
    for (const auto& line : Lines(HeaderBlock(mail))) EXPECT_LE(line.size(), 76u) << line;
  }
}

TEST(MimeTest, AsciiThatLooksLikeAnEncodedWordIsEncodedSoItReadsLiterally) {
  EmailMessage m = Sample();
  m.subject = "literally =?UTF-8?B?aGk=?= here";
  const std::string value = Header(BuildMimeMessage(m, kNow), "Subject");
  EXPECT_EQ(DecodeEncodedWords(value), m.subject);
}

TEST(MimeTest, NonAsciiDisplayNameIsEncodedButTheAddressIsNot) {
  EmailMessage m = Sample();
  m.from = "Paybell Zürich <alerts@paybell.example>";
  const std::string from = Header(BuildMimeMessage(m, kNow), "From");
  EXPECT_THAT(from, StartsWith("=?UTF-8?B?"));
  EXPECT_THAT(from, HasSubstr(" <alerts@paybell.example>"));
  EXPECT_EQ(DecodeEncodedWords(from), "Paybell Zürich");
}

TEST(MimeTest, DisplayNamesWithSpecialsAreQuoted) {
  EmailMessage m = Sample();
  m.from = "Paybell, Inc. \"Alerts\" <alerts@paybell.example>";
  EXPECT_EQ(Header(BuildMimeMessage(m, kNow), "From"),
            "\"Paybell, Inc. \\\"Alerts\\\"\" <alerts@paybell.example>");
}

TEST(MimeTest, ExtraHeadersAreWrittenAndChecked) {
  EmailMessage m = Sample();
  m.headers = {{"X-Paybell-Test", "true"}};
  EXPECT_EQ(Header(BuildMimeMessage(m, kNow), "X-Paybell-Test"), "true");
}

TEST(MimeTest, HeaderInjectionIsRefused) {
  const std::vector<std::string> bads = {"x\r\nBcc: victim@evil.example", "x\nBcc: v@e.example",
                                         "x\rY", std::string("x\0y", 3)};
  for (const auto& bad : bads) {
    EmailMessage subject = Sample();
    subject.subject = bad;
    ExpectInvalid(subject);
    EmailMessage from = Sample();
    from.from = "Paybell <alerts@paybell.example>" + bad;
    ExpectInvalid(from);
    EmailMessage to = Sample();
    to.to = {"ops@acme.example" + bad};
    ExpectInvalid(to);
    EmailMessage value = Sample();
    value.headers = {{"X-Note", bad}};
    ExpectInvalid(value);
    EmailMessage name = Sample();
    name.headers = {{"X-Note" + bad, "v"}};
    ExpectInvalid(name);
  }
}

TEST(MimeTest, ExtraHeadersCannotReplaceOrAddRecipientsOrStructure) {
  for (const char* name : {"Bcc", "cc", "TO", "From", "Subject", "Content-Type", "Date",
                           "Message-ID", "MIME-Version", "Auto-Submitted", "Sender"}) {
    EmailMessage m = Sample();
    m.headers = {{name, "x@evil.example"}};
    ExpectInvalid(m);
  }
  for (const char* name : {"X Note", "X:Note", "", "X-Nöte"}) {
    EmailMessage m = Sample();
    m.headers = {{name, "v"}};
    ExpectInvalid(m);
  }
}

TEST(MimeTest, AddressesMustBePlainAddrSpecs) {
  EXPECT_EQ(AddressSpec("Paybell <alerts@paybell.example>"), "alerts@paybell.example");
  EXPECT_EQ(AddressSpec("ops@acme.example"), "ops@acme.example");
  EXPECT_EQ(AddressSpec(" <ops@acme.example> "), "ops@acme.example");
  for (const char* bad :
       {"", "ops", "@acme.example", "ops@", "a b@acme.example", "ops@acme.example, x@evil.example",
        "ops@acme@example", "<ops@acme.example> trailing", "ops@acme.example>",
        "\"q\"@acme.example", "ops@[127.0.0.1]", "opś@acme.example", "ops@acme.example SIZE=1"}) {
    EXPECT_THROW(AddressSpec(bad), common::Error) << bad;
    EmailMessage m = Sample();
    m.to = {bad};
    ExpectInvalid(m);
  }
  EmailMessage none = Sample();
  none.to.clear();
  ExpectInvalid(none);
}

TEST(MimeTest, QuotedPrintableEncodesWhatMustBeAndWrapsAt76) {
  EXPECT_EQ(QuotedPrintable("a=b"), "a=3Db");
  EXPECT_EQ(QuotedPrintable("café"), "caf=C3=A9");
  EXPECT_EQ(QuotedPrintable("trailing \nspace\t"), "trailing=20\r\nspace=09");
  EXPECT_EQ(QuotedPrintable("a\r\nb\nc"), "a\r\nb\r\nc");
  EXPECT_EQ(QuotedPrintable("tab\tinside"), "tab\tinside");
  const std::string long_line(200, 'x');
  const std::string encoded = QuotedPrintable(long_line);
  for (const auto& line : Lines(encoded)) EXPECT_LE(line.size(), 76u);
  EXPECT_EQ(DecodeQuotedPrintable(encoded), long_line);
  // An escape is never split by a soft break.
  const std::string accents = std::string(74, 'x') + "ééé";
  const std::string wrapped = QuotedPrintable(accents);
  for (const auto& line : Lines(wrapped)) EXPECT_LE(line.size(), 76u) << line;
  EXPECT_EQ(DecodeQuotedPrintable(wrapped), accents);
}

TEST(MimeTest, DatesAreRfc5322InUtc) {
  EXPECT_EQ(Rfc5322Date(std::chrono::system_clock::from_time_t(0)),
            "Thu, 01 Jan 1970 00:00:00 +0000");
  EXPECT_EQ(Rfc5322Date(std::chrono::system_clock::from_time_t(1735689599)),
            "Tue, 31 Dec 2024 23:59:59 +0000");
}

TEST(MimeTest, LongPlainHeadersFoldAtSpaces) {
  const std::string value =
      "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen";
  const std::string field = HeaderField("Subject", value);
  EXPECT_THAT(field, HasSubstr("\r\n "));
  for (const auto& line : Lines(field)) EXPECT_LE(line.size(), 78u);
  std::string unfolded = field;
  for (size_t at; (at = unfolded.find("\r\n")) != std::string::npos;) unfolded.erase(at, 2);
  EXPECT_EQ(unfolded, "Subject: " + value);
}

}  // namespace
}  // namespace paybell::notifications

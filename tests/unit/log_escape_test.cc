#include "server/common/log_escape.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

namespace paybell::common {
namespace {

// Hostile values as they arrive in a request path, a Stripe event id or a token's `sub`.
const char* const kHostile[] = {
    "/v1/x\r\n2026-01-01T00:00:00.000Z info forged line",
    "evt_1\x1b[31mred\x1b[0m",
    "sub\xff\xc3",
    "\xc0\xaf",          // overlong '/'
    "\xe0\x80\xaf",      // overlong '/', three bytes
    "\xed\xa0\x80",      // a surrogate half
    "\xf4\x90\x80\x80",  // above U+10FFFF
    "\xf0\x9f\x98",      // truncated emoji
    "\x80\xbf",          // stray continuation bytes
    "\xc2\x9b"
    "31m",  // U+009B, CSI to some terminals
    "a\xe2\x80\xa8"
    "b",                  // U+2028 LINE SEPARATOR
    "\xe2\x80\xaeolleh",  // U+202E RIGHT-TO-LEFT OVERRIDE
    "\x7f\x08\x0c\"\\",
};

bool HasControlByte(const std::string& s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

// nlohmann::json refuses to serialise a string that is not valid UTF-8.
bool IsValidUtf8(const std::string& s) {
  try {
    (void)nlohmann::json(s).dump();
    return true;
  } catch (const nlohmann::json::type_error&) {
    return false;
  }
}

TEST(LogEscapeTest, TextKeepsPrintableUtf8) {
  EXPECT_EQ(EscapeForTextLog("Zürich 😀 ok — 東京"), "Zürich 😀 ok — 東京");
  EXPECT_EQ(EscapeForTextLog(""), "");
  EXPECT_EQ(EscapeForTextLog("\xc2\xa0\xf4\x8f\xbf\xbf"), "\xc2\xa0\xf4\x8f\xbf\xbf");
}

TEST(LogEscapeTest, TextEscapesLineBreaksAndTerminalSequences) {
  EXPECT_EQ(EscapeForTextLog("a\r\n2026-01-01T00:00:00.000Z info forged"),
            "a\\r\\n2026-01-01T00:00:00.000Z info forged");
  EXPECT_EQ(EscapeForTextLog("\x1b[31mred\x1b[0m"), "\\x1b[31mred\\x1b[0m");
  EXPECT_EQ(EscapeForTextLog("\t\x7f\x01"), "\\t\\x7f\\x01");
  EXPECT_EQ(EscapeForTextLog(std::string("a\0b", 3)), "a\\x00b");
  // A backslash is doubled, so "\\n" in a log line never means a newline was there.
  EXPECT_EQ(EscapeForTextLog("C:\\n"), "C:\\\\n");
}

TEST(LogEscapeTest, TextEscapesC1ControlsSeparatorsAndBidiOverrides) {
  EXPECT_EQ(EscapeForTextLog("\xc2\x9b"
                             "31m"),
            "\\u009b31m");
  EXPECT_EQ(EscapeForTextLog("\xc2\x85"), "\\u0085");
  EXPECT_EQ(EscapeForTextLog("a\xe2\x80\xa8"
                             "b\xe2\x80\xa9"),
            "a\\u2028b\\u2029");
  EXPECT_EQ(EscapeForTextLog("\xe2\x80\xaeolleh\xe2\x81\xa6"), "\\u202eolleh\\u2066");
}

TEST(LogEscapeTest, TextShowsEachIllFormedByteAsHex) {
  EXPECT_EQ(EscapeForTextLog("sub\xff\xc3"), "sub\\xff\\xc3");
  EXPECT_EQ(EscapeForTextLog("\xc0\xaf"), "\\xc0\\xaf");
  EXPECT_EQ(EscapeForTextLog("\xed\xa0\x80"), "\\xed\\xa0\\x80");
  EXPECT_EQ(EscapeForTextLog("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");
  EXPECT_EQ(EscapeForTextLog("\xf0\x9f\x98!"), "\\xf0\\x9f\\x98!");
  // A truncated sequence does not swallow the valid character after it.
  EXPECT_EQ(EscapeForTextLog("\xe2\x82Zü"), "\\xe2\\x82Zü");
}

TEST(LogEscapeTest, TextOutputIsOneLineOfValidUtf8) {
  for (const char* input : kHostile) {
    const std::string out = EscapeForTextLog(input);
    EXPECT_FALSE(HasControlByte(out)) << out;
    EXPECT_TRUE(IsValidUtf8(out)) << out;
  }
}

TEST(LogEscapeTest, JsonKeepsPrintableUtf8AndEscapesSyntax) {
  EXPECT_EQ(JsonEscape("Zürich 😀"), "Zürich 😀");
  EXPECT_EQ(JsonEscape("say \"hi\" \\ bye"), "say \\\"hi\\\" \\\\ bye");
  EXPECT_EQ(JsonEscape("a\r\nb\tc\b\f"), "a\\r\\nb\\tc\\b\\f");
  EXPECT_EQ(JsonEscape("\x1b[31m\x7f"), "\\u001b[31m\\u007f");
  EXPECT_EQ(JsonEscape("\xc2\x9b\xe2\x80\xa8\xe2\x80\xae"), "\\u009b\\u2028\\u202e");
}

TEST(LogEscapeTest, JsonReplacesEachIllFormedSubpartWithReplacementCharacter) {
  EXPECT_EQ(JsonEscape("sub\xff\xc3"), "sub\\ufffd\\ufffd");
  EXPECT_EQ(JsonEscape("\xf0\x9f\x98!"), "\\ufffd!");   // one truncated sequence, one U+FFFD
  EXPECT_EQ(JsonEscape("\xc0\xaf"), "\\ufffd\\ufffd");  // C0 never starts a sequence
  EXPECT_EQ(JsonEscape("\xed\xa0\x80"), "\\ufffd\\ufffd\\ufffd");
  EXPECT_EQ(JsonEscape("\xe2\x82Zü"), "\\ufffdZü");
}

TEST(LogEscapeTest, JsonOutputParsesBackToTheValidText) {
  for (const char* input : kHostile) {
    const std::string line = "{\"msg\":\"" + JsonEscape(input) + "\"}";
    EXPECT_FALSE(HasControlByte(line)) << line;
    nlohmann::json parsed;
    ASSERT_NO_THROW(parsed = nlohmann::json::parse(line)) << line;
    EXPECT_TRUE(parsed["msg"].is_string());
  }
  const std::string text = "Zürich \"quoted\" \\ \r\n\x1b[0m \xe2\x80\xa8";
  EXPECT_EQ(nlohmann::json::parse("\"" + JsonEscape(text) + "\"").get<std::string>(), text);
}

}  // namespace
}  // namespace paybell::common

#include "server/common/logging.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace paybell::common {
namespace {

// A request path as a client can send it: a forged second line, a colour sequence, and bytes
// that are not UTF-8.
const std::string kHostilePath =
    "/v1/x\r\n2026-01-01T00:00:00.000Z info forged line \x1b[31mred\x1b[0m \xff\xc3 end";

// Logs through the logger InitLogging installs, as every spdlog:: call site does, into a
// string instead of stderr.
class LoggingTest : public ::testing::Test {
 protected:
  void SetUp() override { previous_ = spdlog::default_logger(); }
  void TearDown() override { spdlog::set_default_logger(previous_); }

  std::string LogOnce(LogFormat format) {
    InitLogging(format, "info", std::make_shared<spdlog::sinks::ostream_sink_mt>(out_));
    spdlog::info("http {} {} -> {}", "GET", kHostilePath, 404);
    return out_.str();
  }

  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> previous_;
};

bool HasControlByte(const std::string& s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

bool IsValidUtf8(const std::string& s) {
  try {
    (void)nlohmann::json(s).dump();  // refuses strings that are not UTF-8
    return true;
  } catch (const nlohmann::json::type_error&) {
    return false;
  }
}

TEST_F(LoggingTest, TextLogWritesOneLineWithTheControlsEscaped) {
  const std::string out = LogOnce(LogFormat::kText);
  ASSERT_FALSE(out.empty());
  ASSERT_EQ(out.back(), '\n');
  const std::string line = out.substr(0, out.size() - 1);
  EXPECT_FALSE(HasControlByte(line)) << line;
  EXPECT_TRUE(IsValidUtf8(line)) << line;
  EXPECT_NE(line.find(" info http GET /v1/x\\r\\n2026-01-01T00:00:00.000Z info forged line "
                      "\\x1b[31mred\\x1b[0m \\xff\\xc3 end -> 404"),
            std::string::npos)
      << line;
}

TEST_F(LoggingTest, JsonLogWritesOneLineOfValidUtf8Json) {
  const std::string out = LogOnce(LogFormat::kJson);
  ASSERT_FALSE(out.empty());
  ASSERT_EQ(out.back(), '\n');
  const std::string line = out.substr(0, out.size() - 1);
  EXPECT_FALSE(HasControlByte(line)) << line;
  EXPECT_TRUE(IsValidUtf8(line)) << line;
  nlohmann::json parsed;
  ASSERT_NO_THROW(parsed = nlohmann::json::parse(line)) << line;
  EXPECT_EQ(parsed.value("level", ""), "info");
  EXPECT_EQ(parsed.value("msg", ""),
            "http GET /v1/x\r\n2026-01-01T00:00:00.000Z info forged line \x1b[31mred\x1b[0m "
            "\xef\xbf\xbd\xef\xbf\xbd end -> 404");
}

}  // namespace
}  // namespace paybell::common

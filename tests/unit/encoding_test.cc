#include "server/common/encoding.h"

#include <gtest/gtest.h>

namespace paybell::common {
namespace {

TEST(EncodingTest, Hex) {
  const unsigned char bytes[] = {0x00, 0x0f, 0xab, 0xff};
  EXPECT_EQ(HexEncode(bytes, sizeof bytes), "000fabff");
  EXPECT_EQ(HexEncode(bytes, 0), "");
}

TEST(EncodingTest, RandomHexHasTheRequestedLengthAndVaries) {
  const std::string a = RandomHex(16);
  EXPECT_EQ(a.size(), 32u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(a, RandomHex(16));
}

TEST(EncodingTest, RandomBase64UrlIsUnpaddedAndVaries) {
  const std::string a = RandomBase64Url(32);
  EXPECT_EQ(a.size(), 43u);  // 256 bits
  EXPECT_EQ(Base64UrlDecode(a).value_or("").size(), 32u);
  EXPECT_NE(a, RandomBase64Url(32));
}

TEST(EncodingTest, Base64UrlRoundTripsAndRejectsForeignCharacters) {
  // RFC 4648 test vectors, URL alphabet, no padding.
  EXPECT_EQ(Base64UrlEncode("f"), "Zg");
  EXPECT_EQ(Base64UrlEncode("fo"), "Zm8");
  EXPECT_EQ(Base64UrlEncode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_EQ(Base64UrlDecode("Zm9vYmFy"), "foobar");
  EXPECT_EQ(Base64UrlDecode("-_8"), "\xfb\xff");
  EXPECT_FALSE(Base64UrlDecode("Zm9v+mFy").has_value());
}

}  // namespace
}  // namespace paybell::common

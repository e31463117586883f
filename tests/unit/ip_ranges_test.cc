#include "server/common/ip_ranges.h"

#include <gtest/gtest.h>

namespace paybell::common {
namespace {

TEST(IpRangesTest, LoopbackAndThisNetworkAreRestricted) {
  EXPECT_TRUE(IsRestrictedAddress("127.0.0.1"));
  EXPECT_TRUE(IsRestrictedAddress("127.255.255.254"));
  EXPECT_TRUE(IsRestrictedAddress("0.0.0.0"));
  EXPECT_TRUE(IsRestrictedAddress("::1"));
  EXPECT_TRUE(IsRestrictedAddress("[::1]"));
  EXPECT_TRUE(IsRestrictedAddress("::"));
  EXPECT_TRUE(IsRestrictedAddress("0:0:0:0:0:0:0:1"));
}

TEST(IpRangesTest, PrivateRangesAndTheirEdges) {
  EXPECT_TRUE(IsRestrictedAddress("10.0.0.0"));
  EXPECT_TRUE(IsRestrictedAddress("10.255.255.255"));
  EXPECT_FALSE(IsRestrictedAddress("9.255.255.255"));
  EXPECT_FALSE(IsRestrictedAddress("11.0.0.0"));
  EXPECT_TRUE(IsRestrictedAddress("172.16.0.0"));
  EXPECT_TRUE(IsRestrictedAddress("172.31.255.255"));
  EXPECT_FALSE(IsRestrictedAddress("172.15.255.255"));
  EXPECT_FALSE(IsRestrictedAddress("172.32.0.0"));
  EXPECT_TRUE(IsRestrictedAddress("192.168.0.1"));
  EXPECT_TRUE(IsRestrictedAddress("192.168.255.255"));
  EXPECT_FALSE(IsRestrictedAddress("192.167.255.255"));
  EXPECT_FALSE(IsRestrictedAddress("192.169.0.0"));
}

TEST(IpRangesTest, LinkLocalCgnatMulticastAndReserved) {
  EXPECT_TRUE(IsRestrictedAddress("169.254.169.254"));
  EXPECT_FALSE(IsRestrictedAddress("169.253.255.255"));
  EXPECT_FALSE(IsRestrictedAddress("169.255.0.0"));
  EXPECT_TRUE(IsRestrictedAddress("100.64.0.1"));
  EXPECT_TRUE(IsRestrictedAddress("100.127.255.255"));
  EXPECT_FALSE(IsRestrictedAddress("100.63.255.255"));
  EXPECT_FALSE(IsRestrictedAddress("100.128.0.0"));
  EXPECT_TRUE(IsRestrictedAddress("224.0.0.1"));
  EXPECT_TRUE(IsRestrictedAddress("255.255.255.255"));
}

TEST(IpRangesTest, PublicAddressesAreNot) {
  EXPECT_FALSE(IsRestrictedAddress("8.8.8.8"));
  EXPECT_FALSE(IsRestrictedAddress("54.230.10.1"));
  EXPECT_FALSE(IsRestrictedAddress("2606:4700::1111"));
  EXPECT_FALSE(IsRestrictedAddress("[2a00:1450:4001::200e]"));
}

TEST(IpRangesTest, Ipv6LocalRanges) {
  EXPECT_TRUE(IsRestrictedAddress("fc00::1"));
  EXPECT_TRUE(IsRestrictedAddress("fd12:3456:789a::1"));
  EXPECT_FALSE(IsRestrictedAddress("fbff::1"));
  EXPECT_TRUE(IsRestrictedAddress("fe80::1"));
  EXPECT_TRUE(IsRestrictedAddress("febf::1"));
  EXPECT_TRUE(IsRestrictedAddress("fec0::1"));
  EXPECT_TRUE(IsRestrictedAddress("ff02::1"));
}

TEST(IpRangesTest, Ipv6FormsEmbeddingIpv4AreJudgedByTheIpv4Address) {
  EXPECT_TRUE(IsRestrictedAddress("::ffff:127.0.0.1"));
  EXPECT_TRUE(IsRestrictedAddress("::ffff:7f00:1"));
  EXPECT_TRUE(IsRestrictedAddress("::ffff:10.1.2.3"));
  EXPECT_TRUE(IsRestrictedAddress("::ffff:169.254.169.254"));
  EXPECT_FALSE(IsRestrictedAddress("::ffff:8.8.8.8"));
  EXPECT_TRUE(IsRestrictedAddress("::127.0.0.1"));
  EXPECT_TRUE(IsRestrictedAddress("64:ff9b::a9fe:a9fe"));
  EXPECT_FALSE(IsRestrictedAddress("64:ff9b::808:808"));
  EXPECT_TRUE(IsRestrictedAddress("2002:7f00:1::"));
  EXPECT_TRUE(IsRestrictedAddress("2002:c0a8:101::1"));
  EXPECT_FALSE(IsRestrictedAddress("2002:808:808::1"));
}

TEST(IpRangesTest, NonCanonicalSpellingsAndNamesAreRestricted) {
  EXPECT_TRUE(IsRestrictedAddress("2130706433"));
  EXPECT_TRUE(IsRestrictedAddress("0x7f000001"));
  EXPECT_TRUE(IsRestrictedAddress("0177.0.0.1"));
  EXPECT_TRUE(IsRestrictedAddress("127.1"));
  EXPECT_TRUE(IsRestrictedAddress("08.8.8.8"));
  EXPECT_TRUE(IsRestrictedAddress("8.8.8.8."));
  EXPECT_TRUE(IsRestrictedAddress("fe80::1%eth0"));
  EXPECT_TRUE(IsRestrictedAddress("hooks.slack.com"));
  EXPECT_TRUE(IsRestrictedAddress(""));
  EXPECT_TRUE(IsRestrictedAddress(" 8.8.8.8"));
}

}  // namespace
}  // namespace paybell::common

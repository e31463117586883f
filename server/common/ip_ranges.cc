#include "server/common/ip_ranges.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdint>
#include <string>

namespace paybell::common {
namespace {

bool InRange(uint32_t address, uint32_t network, int prefix_bits) {
  const uint32_t mask = prefix_bits == 0 ? 0 : ~uint32_t{0} << (32 - prefix_bits);
  return (address & mask) == network;
}

bool IsRestrictedV4(uint32_t a) {
  return InRange(a, 0x00000000, 8) ||   // 0.0.0.0/8
         InRange(a, 0x7f000000, 8) ||   // 127.0.0.0/8
         InRange(a, 0x0a000000, 8) ||   // 10.0.0.0/8
         InRange(a, 0xac100000, 12) ||  // 172.16.0.0/12
         InRange(a, 0xc0a80000, 16) ||  // 192.168.0.0/16
         InRange(a, 0xa9fe0000, 16) ||  // 169.254.0.0/16
         InRange(a, 0x64400000, 10) ||  // 100.64.0.0/10
         InRange(a, 0xc0000000, 24) ||  // 192.0.0.0/24 (IETF protocol assignments)
         InRange(a, 0xc6120000, 15) ||  // 198.18.0.0/15 (benchmarking)
         InRange(a, 0xe0000000, 4) ||   // 224.0.0.0/4
         InRange(a, 0xf0000000, 4);     // 240.0.0.0/4
}

uint32_t V4At(const unsigned char* bytes) {
  return (uint32_t{bytes[0]} << 24) | (uint32_t{bytes[1]} << 16) | (uint32_t{bytes[2]} << 8) |
         uint32_t{bytes[3]};
}

bool AllZero(const unsigned char* bytes, int count) {
  for (int i = 0; i < count; ++i) {
    if (bytes[i] != 0) return false;
  }
  return true;
}

bool IsRestrictedV6(const unsigned char* b) {
  // ::/96 covers :: , ::1 and the deprecated IPv4-compatible form ::a.b.c.d; the embedded
  // address then decides (0.0.0.0/8 holds :: and ::1 themselves).
  if (AllZero(b, 12)) return IsRestrictedV4(V4At(b + 12));
  // ::ffff:a.b.c.d (IPv4-mapped): a socket connects to the IPv4 address itself.
  if (AllZero(b, 10) && b[10] == 0xff && b[11] == 0xff) return IsRestrictedV4(V4At(b + 12));
  // 64:ff9b::/96 (NAT64 well-known prefix).
  static constexpr unsigned char kNat64[12] = {0x00, 0x64, 0xff, 0x9b};
  bool nat64 = true;
  for (int i = 0; i < 12; ++i) nat64 = nat64 && b[i] == kNat64[i];
  if (nat64) return IsRestrictedV4(V4At(b + 12));
  // 2002::/16 (6to4): the next 32 bits are an IPv4 address.
  if (b[0] == 0x20 && b[1] == 0x02) return IsRestrictedV4(V4At(b + 2));
  if ((b[0] & 0xfe) == 0xfc) return true;                  // fc00::/7
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return true;  // fe80::/10
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return true;  // fec0::/10
  if (b[0] == 0xff) return true;                           // ff00::/8
  return false;
}

}  // namespace

bool IsRestrictedAddress(std::string_view ip_literal) {
  if (ip_literal.size() > 2 && ip_literal.front() == '[' && ip_literal.back() == ']') {
    ip_literal = ip_literal.substr(1, ip_literal.size() - 2);
  }
  // inet_pton takes only canonical spellings: four decimal parts without leading zeros for
  // IPv4, no zone ids for IPv6. The shorthands inet_aton and getaddrinfo accept never match.
  const std::string literal(ip_literal);
  in_addr v4{};
  if (inet_pton(AF_INET, literal.c_str(), &v4) == 1) return IsRestrictedV4(ntohl(v4.s_addr));
  in6_addr v6{};
  if (inet_pton(AF_INET6, literal.c_str(), &v6) == 1) return IsRestrictedV6(v6.s6_addr);
  return true;
}

}  // namespace paybell::common

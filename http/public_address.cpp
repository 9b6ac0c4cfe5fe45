#include "http/public_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

namespace plugauth {
namespace {

bool in_v4(uint32_t a, uint32_t net, int bits) { return (a >> (32 - bits)) == (net >> (32 - bits)); }

// The first `bits` bits of `a` equal those of `prefix`.
bool in_v6(const std::array<uint8_t, 16>& a, std::initializer_list<uint8_t> prefix, int bits) {
  int i = 0;
  for (uint8_t p : prefix) {
    if (bits <= 0) break;
    const int take = bits >= 8 ? 8 : bits;
    const uint8_t mask = static_cast<uint8_t>(0xff << (8 - take));
    if ((a[i] & mask) != (p & mask)) return false;
    bits -= take;
    ++i;
  }
  return bits <= 0;
}

uint32_t v4_at(const std::array<uint8_t, 16>& a, int offset) {
  return (uint32_t{a[offset]} << 24) | (uint32_t{a[offset + 1]} << 16) | (uint32_t{a[offset + 2]} << 8) |
         uint32_t{a[offset + 3]};
}

}  // namespace

bool is_public_ipv4(uint32_t a) {
  struct Range {
    uint32_t net;
    int bits;
  };
  static constexpr Range kNotPublic[] = {
      {0x00000000, 8},   // 0.0.0.0/8 "this network" (0.0.0.0 reaches the local host)
      {0x0A000000, 8},   // 10/8 private
      {0x64400000, 10},  // 100.64/10 shared address space (carrier-grade NAT)
      {0x7F000000, 8},   // 127/8 loopback
      {0xA9FE0000, 16},  // 169.254/16 link-local (cloud metadata services)
      {0xAC100000, 12},  // 172.16/12 private
      {0xC0000000, 24},  // 192.0.0/24 IETF protocol assignments
      {0xC0000200, 24},  // 192.0.2/24 documentation (TEST-NET-1)
      {0xC0586300, 24},  // 192.88.99/24 6to4 relay anycast (deprecated)
      {0xC0A80000, 16},  // 192.168/16 private
      {0xC6120000, 15},  // 198.18/15 benchmarking
      {0xC6336400, 24},  // 198.51.100/24 documentation (TEST-NET-2)
      {0xCB007100, 24},  // 203.0.113/24 documentation (TEST-NET-3)
      {0xE0000000, 4},   // 224/4 multicast
      {0xF0000000, 4},   // 240/4 reserved, and 255.255.255.255 broadcast
  };
  for (const auto& r : kNotPublic)
    if (in_v4(a, r.net, r.bits)) return false;
  return true;
}

bool is_public_ipv6(const std::array<uint8_t, 16>& a) {
  // Forms whose packets go to an embedded IPv4 address: judged by it.
  if (in_v6(a, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, 96)) return is_public_ipv4(v4_at(a, 12));  // ::ffff:a.b.c.d
  if (in_v6(a, {0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0}, 96)) return is_public_ipv4(v4_at(a, 12));  // NAT64
  if (in_v6(a, {0x20, 0x02}, 16)) return is_public_ipv4(v4_at(a, 2));  // 6to4 2002:AABB:CCDD::/48
  // Everything else must be global unicast, and not one of its special ranges.
  if (!in_v6(a, {0x20}, 3)) return false;
  if (in_v6(a, {0x20, 0x01, 0x00}, 23)) return false;        // 2001::/23 IETF protocol assignments (Teredo…)
  if (in_v6(a, {0x20, 0x01, 0x0d, 0xb8}, 32)) return false;  // 2001:db8::/32 documentation
  if (in_v6(a, {0x3f, 0xff, 0x00}, 20)) return false;        // 3fff::/20 documentation (RFC 9637)
  return true;
}

bool is_public_address(const sockaddr* sa) {
  if (sa == nullptr) return false;
  if (sa->sa_family == AF_INET) return is_public_ipv4(ntohl(reinterpret_cast<const sockaddr_in*>(sa)->sin_addr.s_addr));
  if (sa->sa_family == AF_INET6) {
    std::array<uint8_t, 16> a{};
    std::memcpy(a.data(), reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr.s6_addr, 16);
    return is_public_ipv6(a);
  }
  return false;
}

std::optional<bool> is_public_address_literal(const std::string& text) {
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) return is_public_ipv4(ntohl(v4.s_addr));
  in6_addr v6{};
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    std::array<uint8_t, 16> a{};
    std::memcpy(a.data(), v6.s6_addr, 16);
    return is_public_ipv6(a);
  }
  return std::nullopt;
}

}  // namespace plugauth

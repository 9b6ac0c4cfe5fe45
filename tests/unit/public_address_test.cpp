// The address classifier of outbound fetches whose URL a stranger chooses
// (client ID metadata documents, SPEC §8.14): one test per rule, each with
// the hostile spellings an attacker would try.
#include <catch2/catch.hpp>

#include <string>

#include "http/public_address.h"

using plugauth::is_public_address_literal;

namespace {

bool is_public(const std::string& text) {
  auto verdict = is_public_address_literal(text);
  INFO("address " << text);
  REQUIRE(verdict.has_value());
  return *verdict;
}

}  // namespace

TEST_CASE("public IPv4 and IPv6 unicast addresses are public") {
  for (const char* a : {"1.1.1.1", "8.8.8.8", "93.184.216.34", "100.63.255.255", "100.128.0.0", "172.15.255.255",
                        "172.32.0.0", "198.17.255.255", "198.20.0.0", "223.255.255.255", "2606:4700:4700::1111",
                        "2a00:1450:4001:81b::200e", "2001:200::1"})
    CHECK(is_public(a));
}

TEST_CASE("0.0.0.0/8 (this network, where 0.0.0.0 reaches the local host) is not public") {
  for (const char* a : {"0.0.0.0", "0.0.0.1", "0.255.255.255"}) CHECK_FALSE(is_public(a));
}

TEST_CASE("RFC 1918 private ranges 10/8, 172.16/12 and 192.168/16 are not public") {
  for (const char* a : {"10.0.0.1", "10.255.255.255", "172.16.0.1", "172.31.255.255", "192.168.0.1", "192.168.255.255"})
    CHECK_FALSE(is_public(a));
}

TEST_CASE("100.64/10 shared address space (carrier-grade NAT) is not public") {
  for (const char* a : {"100.64.0.0", "100.100.100.200", "100.127.255.255"}) CHECK_FALSE(is_public(a));
}

TEST_CASE("127/8 loopback is not public") {
  for (const char* a : {"127.0.0.1", "127.1.2.3", "127.255.255.255"}) CHECK_FALSE(is_public(a));
}

TEST_CASE("169.254/16 link-local, where cloud metadata services live, is not public") {
  for (const char* a : {"169.254.169.254", "169.254.0.1", "169.254.255.255"}) CHECK_FALSE(is_public(a));
}

TEST_CASE("192.0.0/24 IETF protocol assignments and 192.88.99/24 6to4 relay anycast are not public") {
  for (const char* a : {"192.0.0.8", "192.0.0.170", "192.88.99.1"}) CHECK_FALSE(is_public(a));
}

TEST_CASE("IPv4 documentation ranges 192.0.2/24, 198.51.100/24 and 203.0.113/24 are not public") {
  for (const char* a : {"192.0.2.1", "198.51.100.7", "203.0.113.255"}) CHECK_FALSE(is_public(a));
}

TEST_CASE("198.18/15 benchmarking is not public") {
  for (const char* a : {"198.18.0.1", "198.19.255.255"}) CHECK_FALSE(is_public(a));
}

TEST_CASE("224/4 multicast, 240/4 reserved and the broadcast address are not public") {
  for (const char* a : {"224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255"}) CHECK_FALSE(is_public(a));
}

TEST_CASE("IPv6 unspecified :: and loopback ::1 are not public") {
  for (const char* a : {"::", "::1", "0:0:0:0:0:0:0:1"}) CHECK_FALSE(is_public(a));
}

TEST_CASE("IPv4-compatible ::a.b.c.d (deprecated) is not public, whatever it embeds") {
  for (const char* a : {"::127.0.0.1", "::10.0.0.1", "::8.8.8.8", "::169.254.169.254", "::2"}) CHECK_FALSE(is_public(a));
}

TEST_CASE("IPv4-mapped ::ffff:a.b.c.d is judged by the IPv4 address it carries") {
  for (const char* a : {"::ffff:127.0.0.1", "::ffff:7f00:1", "::ffff:10.0.0.1", "::ffff:169.254.169.254",
                        "::ffff:0.0.0.0", "::ffff:192.168.1.1", "0:0:0:0:0:ffff:a9fe:a9fe"})
    CHECK_FALSE(is_public(a));
  CHECK(is_public("::ffff:8.8.8.8"));
}

TEST_CASE("NAT64 64:ff9b::/96 (RFC 6052) is judged by the IPv4 address it carries") {
  for (const char* a : {"64:ff9b::127.0.0.1", "64:ff9b::7f00:1", "64:ff9b::10.1.2.3", "64:ff9b::169.254.169.254",
                        "64:ff9b::a9fe:a9fe", "64:ff9b::0.0.0.0"})
    CHECK_FALSE(is_public(a));
  CHECK(is_public("64:ff9b::8.8.8.8"));
}

TEST_CASE("local-use NAT64 64:ff9b:1::/48 (RFC 8215) is not public: its mapping is the operator's") {
  for (const char* a : {"64:ff9b:1::8.8.8.8", "64:ff9b:1::7f00:1", "64:ff9b:1:ffff::1"}) CHECK_FALSE(is_public(a));
}

TEST_CASE("6to4 2002::/16 is judged by the IPv4 address embedded in its /48") {
  for (const char* a : {"2002:7f00:1::", "2002:7f00:0001::1", "2002:a00:1::1", "2002:a9fe:a9fe::",
                        "2002:c0a8:101:1::1", "2002::1", "2002:6440::1"})
    CHECK_FALSE(is_public(a));
  CHECK(is_public("2002:808:808::1"));
}

TEST_CASE("unique-local fc00::/7 is not public") {
  for (const char* a : {"fc00::1", "fd00::1", "fd12:3456:789a::1", "fdff:ffff::"}) CHECK_FALSE(is_public(a));
}

TEST_CASE("link-local fe80::/10 is not public") {
  for (const char* a : {"fe80::1", "fe80::1:2:3:4", "febf:ffff::1"}) CHECK_FALSE(is_public(a));
}

TEST_CASE("site-local fec0::/10 (deprecated) is not public") {
  for (const char* a : {"fec0::1", "fec0:0:0:ffff::1", "feff::1"}) CHECK_FALSE(is_public(a));
}

TEST_CASE("IPv6 multicast ff00::/8 is not public") {
  for (const char* a : {"ff02::1", "ff05::1:3", "ff0e::1"}) CHECK_FALSE(is_public(a));
}

TEST_CASE("IPv6 outside global unicast 2000::/3 (discard-only 100::/64 among it) is not public") {
  for (const char* a : {"100::1", "1::1", "4000::1", "::8.8.8.8", "e000::1"}) CHECK_FALSE(is_public(a));
}

TEST_CASE("2001::/23 IETF protocol assignments (Teredo, benchmarking, ORCHID) are not public") {
  for (const char* a : {"2001::1", "2001:0:4136:e378:8000:63bf:3fff:fdd2", "2001:2::1", "2001:10::1", "2001:1ff::1"})
    CHECK_FALSE(is_public(a));
}

TEST_CASE("IPv6 documentation ranges 2001:db8::/32 and 3fff::/20 are not public") {
  for (const char* a : {"2001:db8::1", "2001:db8:ffff::1", "3fff::1", "3fff:fff::1"}) CHECK_FALSE(is_public(a));
  CHECK(is_public("3fff:1000::1"));
}

TEST_CASE("what is not an address literal gets no verdict (the caller resolves names and refuses)") {
  for (const char* a : {"", "localhost", "127.1", "0x7f000001", "2130706433", "[::1]", "::1%lo", "1.2.3.4 "})
    CHECK_FALSE(is_public_address_literal(a).has_value());
}

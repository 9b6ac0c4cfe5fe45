// Which addresses a fetch whose URL a stranger chose may connect to (SPEC
// §8.14): client ID metadata documents reach only public addresses. Pure
// functions, no I/O; each rule has a unit test (tests/unit/public_address_test.cpp).
//
// IPv4: everything but the special-purpose ranges of RFC 6890 and its
// successors (this network, private, shared/CGNAT, loopback, link-local,
// IETF protocol assignments, documentation, 6to4 relay anycast,
// benchmarking, multicast, reserved and broadcast).
//
// IPv6: only global unicast (2000::/3) is public, which leaves out ::, ::1,
// the deprecated IPv4-compatible ::a.b.c.d, discard-only 100::/64, the
// local-use NAT64 prefix 64:ff9b:1::/48 (its mapping is the operator's),
// unique-local fc00::/7, link-local fe80::/10, site-local fec0::/10 and
// multicast. Inside 2000::/3, the IETF protocol assignments 2001::/23
// (Teredo, benchmarking, ORCHID…) and the documentation ranges
// 2001:db8::/32 and 3fff::/20 are refused. Forms that carry an IPv4 address
// the packet really goes to are judged by that address: IPv4-mapped
// ::ffff:a.b.c.d, NAT64 64:ff9b::a.b.c.d (RFC 6052) and 6to4 2002:AABB:CCDD::/48.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>

namespace plugauth {

// `address`: host byte order.
bool is_public_ipv4(uint32_t address);
bool is_public_ipv6(const std::array<uint8_t, 16>& address);
// AF_INET or AF_INET6; any other family is not public.
bool is_public_address(const sockaddr* address);
// For a numeric address literal ("192.0.2.1", "2002:a00:1::"); nullopt when
// `text` is not one.
std::optional<bool> is_public_address_literal(const std::string& text);

}  // namespace plugauth

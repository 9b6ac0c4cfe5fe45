// Address parsing: the client address behind trusted proxies
// (http/address_matcher.h client_address) and the outbound address
// classifier's literal reader (http/public_address.h).
//   - client_address returns the peer, or an entry of X-Forwarded-For that
//     is a bare IPv4 or IPv6 address (inet_pton reads it), or nothing; from
//     a peer that is not a trusted proxy, always the peer itself.
//   - is_public_address_literal reads exactly what inet_pton reads, and
//     never calls an unspecified, loopback, private, shared (100.64/10),
//     link-local or unique-local address public, IPv4-mapped ones included
//     (checked against this target's own reading of the bytes).
// Input: lines; the first is the peer, the rest X-Forwarded-For values.
#include <arpa/inet.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/address_matcher.h"
#include "http/public_address.h"

using namespace plugauth;

namespace {

// This target's own reading, by the bytes inet_pton gives: whether a
// literal lies in a range that is never public (unspecified, loopback,
// private, carrier-grade NAT, link-local, unique-local; IPv4-mapped IPv6
// by its IPv4 address). nullopt when it is not a literal.
std::optional<bool> never_public(const std::string& s) {
  unsigned char b[16];
  auto v4 = [](const unsigned char* a) {
    return a[0] == 0 || a[0] == 10 || a[0] == 127 || (a[0] == 100 && (a[1] & 0xC0) == 64) ||
           (a[0] == 169 && a[1] == 254) || (a[0] == 172 && (a[1] & 0xF0) == 16) || (a[0] == 192 && a[1] == 168);
  };
  if (inet_pton(AF_INET, s.c_str(), b) == 1) return v4(b);
  if (inet_pton(AF_INET6, s.c_str(), b) != 1) return std::nullopt;
  static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(b, kMapped, 12) == 0) return v4(b + 12);
  bool zero_to_14 = true;
  for (int i = 0; i < 15; ++i) zero_to_14 = zero_to_14 && b[i] == 0;
  if (zero_to_14 && (b[15] == 0 || b[15] == 1)) return true;  // :: and ::1
  return (b[0] & 0xFE) == 0xFC || (b[0] == 0xFE && (b[1] & 0xC0) == 0x80);
}

bool is_ip_literal(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 8192) return 0;
  static const AddressMatcher trusted({"127.0.0.0/8", "::1/128", "10.0.0.0/8", "fd00::/8"});
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> lines;
  for (size_t start = 0; start <= input.size();) {
    size_t end = input.find('\n', start);
    if (end == std::string_view::npos) end = input.size();
    lines.push_back(input.substr(start, end - start));
    start = end + 1;
  }
  const std::string peer(lines.front());
  const std::vector<std::string_view> forwarded(lines.begin() + 1, lines.end());
  const auto client = client_address(peer, forwarded, trusted);
  if (!trusted.contains(peer)) {
    if (!client || *client != peer) std::abort();
  } else if (client && *client != peer) {
    if (!is_ip_literal(*client)) std::abort();
    bool listed = false;
    for (auto v : forwarded) listed = listed || v.find(*client) != std::string_view::npos;
    if (!listed) std::abort();
  }
  for (auto line : lines) {
    const std::string text(line);
    const auto pub = is_public_address_literal(text);
    const auto own = never_public(text);
    if (pub.has_value() != own.has_value()) std::abort();  // both read exactly the literals inet_pton reads
    if (pub && *pub && *own) std::abort();                  // a loopback, private or link-local address called public
  }
  return 0;
}

#include "http/address_matcher.h"

#include <arpa/inet.h>

#include <cstring>

namespace plugauth {
namespace {

bool parse_address(const std::string& text, bool& v6, std::array<unsigned char, 16>& out) {
  out.fill(0);
  if (inet_pton(AF_INET, text.c_str(), out.data()) == 1) {
    v6 = false;
    return true;
  }
  if (inet_pton(AF_INET6, text.c_str(), out.data()) != 1) return false;
  static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(out.data(), mapped, 12) == 0) {  // ::ffff:a.b.c.d
    std::memmove(out.data(), out.data() + 12, 4);
    std::memset(out.data() + 4, 0, 12);
    v6 = false;
    return true;
  }
  v6 = true;
  return true;
}

}  // namespace

AddressMatcher::AddressMatcher(const std::vector<std::string>& cidrs) {
  for (const auto& c : cidrs) {
    auto slash = c.find('/');
    Range r{};
    if (!parse_address(c.substr(0, slash), r.v6, r.bytes)) continue;
    int max_bits = r.v6 ? 128 : 32;
    r.prefix_bits = slash == std::string::npos ? max_bits : std::atoi(c.c_str() + slash + 1);
    if (r.prefix_bits < 0 || r.prefix_bits > max_bits) continue;
    ranges_.push_back(r);
  }
}

bool AddressMatcher::contains(const std::string& address) const {
  bool v6 = false;
  std::array<unsigned char, 16> a{};
  if (!parse_address(address, v6, a)) return false;
  auto in_range = [&](const Range& r) {
    if (r.v6 != v6) return false;
    int whole = r.prefix_bits / 8, rest = r.prefix_bits % 8;
    if (std::memcmp(a.data(), r.bytes.data(), static_cast<size_t>(whole)) != 0) return false;
    if (rest == 0) return true;
    auto mask = static_cast<unsigned char>(0xff << (8 - rest));
    return (a[whole] & mask) == (r.bytes[whole] & mask);
  };
  for (const auto& r : ranges_)
    if (in_range(r)) return true;
  return false;
}

std::optional<std::string> client_address(const std::string& peer, const std::vector<std::string_view>& forwarded_for,
                                          const AddressMatcher& trusted) {
  if (!trusted.contains(peer)) return peer;
  std::vector<std::string_view> entries;
  for (std::string_view value : forwarded_for) {
    while (true) {
      const size_t comma = value.find(',');
      std::string_view entry = value.substr(0, comma);
      while (!entry.empty() && (entry.front() == ' ' || entry.front() == '\t')) entry.remove_prefix(1);
      while (!entry.empty() && (entry.back() == ' ' || entry.back() == '\t')) entry.remove_suffix(1);
      entries.push_back(entry);
      if (comma == std::string_view::npos) break;
      value.remove_prefix(comma + 1);
    }
  }
  if (entries.empty()) return peer;
  // From the right: trusted proxies are passed over; the first other entry
  // is the client. Only entries up to it are read (those were written by
  // proxies we trust); what the client wrote to its left never decides
  // anything, so "junk, 9.9.9.9" is 9.9.9.9, not an unknown client that
  // would fall back to the proxy's address (attacker review).
  const auto readable = [](std::string_view entry) {
    bool v6 = false;
    std::array<unsigned char, 16> bytes{};
    return !entry.empty() && entry.size() <= 45 && parse_address(std::string(entry), v6, bytes);
  };
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    if (!readable(*it)) return std::nullopt;
    if (!trusted.contains(std::string(*it))) return std::string(*it);
  }
  return std::string(entries.front());
}

}  // namespace plugauth

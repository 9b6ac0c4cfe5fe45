// `trusted_proxies`: is a peer address inside one of a list of CIDR ranges?
// IPv4-mapped IPv6 peers (::ffff:a.b.c.d) match IPv4 ranges.
#pragma once

#include <array>
#include <string>
#include <vector>

namespace plugauth {

class AddressMatcher {
 public:
  // Entries that do not parse are skipped (config validation refuses them).
  explicit AddressMatcher(const std::vector<std::string>& cidrs);
  bool contains(const std::string& address) const;

 private:
  struct Range {
    bool v6;
    std::array<unsigned char, 16> bytes;
    int prefix_bits;
  };
  std::vector<Range> ranges_;
};

}  // namespace plugauth

// `trusted_proxies`: is a peer address inside one of a list of CIDR ranges?
// IPv4-mapped IPv6 peers (::ffff:a.b.c.d) match IPv4 ranges.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
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

// The client's address (SPEC §8.9). From a trusted proxy: the rightmost
// X-Forwarded-For entry that is not itself a trusted proxy (entries to its
// left were written by whoever the client is, so they prove nothing); all
// of them trusted: the leftmost; none: the peer. From anyone else: the
// peer, whatever X-Forwarded-For says. nullopt when a trusted proxy's
// X-Forwarded-For holds an entry that is not a bare IPv4 or IPv6 address:
// the client is unknown, and the caller refuses what needs it.
// `forwarded_for`: every X-Forwarded-For field value, in order.
std::optional<std::string> client_address(const std::string& peer, const std::vector<std::string_view>& forwarded_for,
                                          const AddressMatcher& trusted);

}  // namespace plugauth

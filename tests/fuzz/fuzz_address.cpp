// Address parsing: the client address behind trusted proxies
// (http/address_matcher.h client_address) and the outbound address
// classifier's literal reader (http/public_address.h).
//   - client_address returns the peer, or an entry of X-Forwarded-For that
//     is a bare IPv4 or IPv6 address (inet_pton reads it), or nothing; from
//     a peer that is not a trusted proxy, always the peer itself.
//   - is_public_address_literal never calls a loopback, private or
//     link-local literal public.
// Input: lines; the first is the peer, the rest X-Forwarded-For values.
#include <arpa/inet.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "http/address_matcher.h"
#include "http/public_address.h"

using namespace plugauth;

namespace {

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
    if (!pub || !*pub) continue;
    if (!is_ip_literal(text) && text.find_first_of(".:") == std::string::npos) std::abort();
    if (text.rfind("127.", 0) == 0 || text.rfind("10.", 0) == 0 || text.rfind("192.168.", 0) == 0 ||
        text == "::1" || text.rfind("169.254.", 0) == 0)
      std::abort();
  }
  return 0;
}

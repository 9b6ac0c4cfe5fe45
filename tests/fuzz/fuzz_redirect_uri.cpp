// The one URL reader (common/url.h) and redirect_uri matching
// (auth/clients.h), which is built on it.
//   - parse_url: an accepted URL is http(s), its host is a valid name or a
//     bracketed IPv6 address that inet_pton reads, and the URL written back
//     from its parts parses to the same parts; normalize_authority agrees
//     with normalized_authority.
//   - redirect_uri_allowed({registered}, presented): true only for the
//     registered string itself, or (RFC 8252 §7.3) a loopback http URI that
//     differs from it in the port alone; and a presented URI it allows is
//     acceptable whenever the registered one is.
// Input: registered and presented, split at the first NUL.
#include <arpa/inet.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "auth/clients.h"
#include "common/url.h"

using namespace plugauth;

namespace {

std::string write_back(const Url& u) {
  std::string out = u.scheme + "://" + u.host;
  if (u.port != 0) out += ":" + std::to_string(u.port);
  out += u.path;
  if (u.has_query) out += "?" + u.query;
  return out;
}

void check_url(std::string_view text) {
  const auto u = parse_url(text);
  if (!u) return;
  if (u->scheme != "http" && u->scheme != "https") std::abort();
  if (u->host.empty() || (!u->path.empty() && u->path[0] != '/')) std::abort();
  if (u->host.front() == '[') {
    in6_addr a;
    if (u->host.back() != ']' || inet_pton(AF_INET6, u->host.substr(1, u->host.size() - 2).c_str(), &a) != 1)
      std::abort();
  } else if (u->host.find_first_of(":/?#@[]") != std::string::npos) {
    std::abort();
  }
  const auto again = parse_url(write_back(*u));
  if (!again || again->scheme != u->scheme || again->host != u->host || again->port != u->port ||
      again->path != u->path || again->has_query != u->has_query || again->query != u->query)
    std::abort();
  const std::string authority = u->port ? u->host + ":" + std::to_string(u->port) : u->host;
  const auto normalized = normalize_authority(authority, u->scheme);
  if (!normalized || *normalized != u->normalized_authority()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t nul = input.find('\0');
  const std::string registered(input.substr(0, nul));
  const std::string_view presented = nul == std::string_view::npos ? std::string_view() : input.substr(nul + 1);
  check_url(registered);
  check_url(presented);
  if (!redirect_uri_allowed({registered}, presented)) return 0;
  if (presented == registered) return 0;
  const auto a = parse_url(registered), b = parse_url(presented);
  if (!a || !b) std::abort();
  if (a->scheme != "http" || a->host != b->host || a->scheme != b->scheme || a->path != b->path ||
      a->query != b->query || a->has_query != b->has_query)
    std::abort();
  if (a->host != "127.0.0.1" && a->host != "[::1]" && a->host != "localhost") std::abort();
  if (is_acceptable_redirect_uri(registered) && !is_acceptable_redirect_uri(presented)) std::abort();
  return 0;
}

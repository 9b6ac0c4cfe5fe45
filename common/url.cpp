#include "common/url.h"

#include <arpa/inet.h>

#include <cctype>

namespace plugauth {
namespace {

char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

int default_port(std::string_view scheme) {
  return scheme == "https" ? 443 : 80;
}

// RFC 3986 reg-name / IPv4 (unreserved and sub-delims, no percent-escapes)
// or an IPv6 literal in brackets.
bool valid_host(std::string_view host) {
  if (host.empty() || host.size() > 253 + 2) return false;
  if (host.front() == '[') {
    // An IPv6 address, as inet_pton reads it ("[:9]" is not one: found by
    // tests/fuzz/fuzz_redirect_uri). No zone ID (RFC 6874) and no IPvFuture.
    if (host.back() != ']' || host.size() < 4) return false;
    const std::string inner(host.substr(1, host.size() - 2));
    in6_addr address;
    return inner.find_first_not_of("0123456789abcdefABCDEF:.") == std::string::npos &&
           ::inet_pton(AF_INET6, inner.c_str(), &address) == 1;
  }
  for (char c : host) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '.' || c == '_' || c == '~';
    if (!ok) return false;
  }
  return true;
}

// "host[:port]" → host and port (0 when absent); false when malformed.
bool split_authority(std::string_view authority, std::string& host, int& port) {
  port = 0;
  size_t host_end = authority.size();
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return false;
    host_end = close + 1;
    if (host_end < authority.size() && authority[host_end] != ':') return false;
  } else if (const size_t colon = authority.find(':'); colon != std::string_view::npos) {
    host_end = colon;
  }
  host = std::string(authority.substr(0, host_end));
  if (!valid_host(host)) return false;
  if (host_end < authority.size()) {
    const std::string_view digits = authority.substr(host_end + 1);
    if (digits.empty() || digits.size() > 5) return false;
    int p = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return false;
      p = p * 10 + (c - '0');
    }
    if (p < 1 || p > 65535) return false;
    port = p;
  }
  return true;
}

}  // namespace

int Url::effective_port() const {
  return port != 0 ? port : default_port(scheme);
}

std::string Url::normalized_authority() const {
  std::string out = lower(host);
  if (port != 0 && port != default_port(scheme)) {
    out += ':';
    out += std::to_string(port);
  }
  return out;
}

std::string Url::origin() const {
  return scheme + "://" + normalized_authority();
}

std::optional<Url> parse_url(std::string_view text) {
  if (text.size() > 8192) return std::nullopt;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || u >= 0x80 || c == '\\') return std::nullopt;
  }
  const size_t sep = text.find("://");
  if (sep == std::string_view::npos) return std::nullopt;
  Url url;
  url.scheme = lower(text.substr(0, sep));
  if (url.scheme != "http" && url.scheme != "https") return std::nullopt;
  std::string_view rest = text.substr(sep + 3);
  const size_t authority_end = rest.find_first_of("/?#");
  const std::string_view authority = rest.substr(0, authority_end);
  if (authority.find('@') != std::string_view::npos) return std::nullopt;  // user info: refused
  if (!split_authority(authority, url.host, url.port)) return std::nullopt;
  rest = authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  const size_t fragment = rest.find('#');
  if (fragment != std::string_view::npos) {
    url.has_fragment = true;
    rest = rest.substr(0, fragment);
  }
  const size_t query = rest.find('?');
  if (query != std::string_view::npos) {
    url.has_query = true;
    url.query = std::string(rest.substr(query + 1));
    rest = rest.substr(0, query);
  }
  url.path = std::string(rest);
  return url;
}

std::optional<std::string> normalize_authority(std::string_view host_and_port, std::string_view scheme) {
  Url url;
  url.scheme = lower(scheme);
  if (url.scheme != "http" && url.scheme != "https") return std::nullopt;
  if (!split_authority(host_and_port, url.host, url.port)) return std::nullopt;
  return url.normalized_authority();
}

}  // namespace plugauth

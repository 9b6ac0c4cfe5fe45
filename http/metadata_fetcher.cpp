#include "http/metadata_fetcher.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netdb.h>
#include <openssl/x509.h>

#include <cstring>

namespace plugauth {
namespace {

bool is_public_address(const sockaddr* sa) {
  if (sa->sa_family == AF_INET) {
    uint32_t a = ntohl(reinterpret_cast<const sockaddr_in*>(sa)->sin_addr.s_addr);
    auto in = [&](uint32_t net, int bits) { return (a >> (32 - bits)) == (net >> (32 - bits)); };
    return !(in(0x00000000, 8) || in(0x0A000000, 8) || in(0x64400000, 10) || in(0x7F000000, 8) ||
             in(0xA9FE0000, 16) || in(0xAC100000, 12) || in(0xC0000000, 24) || in(0xC0A80000, 16) ||
             in(0xC6120000, 15) || in(0xE0000000, 4) || in(0xF0000000, 4));
  }
  if (sa->sa_family == AF_INET6) {
    const unsigned char* b = reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr.s6_addr;
    static const unsigned char zero[16] = {};
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(b, zero, 15) == 0) return false;      // :: and ::1
    if (std::memcmp(b, mapped, 12) == 0) return false;    // IPv4-mapped: refuse rather than re-check
    if ((b[0] & 0xfe) == 0xfc) return false;              // fc00::/7 unique local
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return false;  // fe80::/10 link local
    if (b[0] == 0xff) return false;                        // multicast
    return true;
  }
  return false;
}

std::string address_text(const sockaddr* sa) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (sa->sa_family == AF_INET)
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, buf, sizeof buf);
  else
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, buf, sizeof buf);
  return buf;
}

struct UrlParts {
  std::string host;
  int port = 443;
  std::string path;
};

Result<UrlParts> split_https_url(const std::string& url) {
  if (url.size() > 2048 || url.rfind("https://", 0) != 0) return make_error("client_id URL must be https");
  if (url.find_first_of("#@ \t\r\n") != std::string::npos) return make_error("client_id URL has a fragment, userinfo or spaces");
  std::string rest = url.substr(8);
  auto slash = rest.find('/');
  if (slash == std::string::npos || slash + 1 >= rest.size()) return make_error("client_id URL needs a path");
  UrlParts p;
  std::string authority = rest.substr(0, slash);
  p.path = rest.substr(slash);
  if (!authority.empty() && authority[0] == '[') {
    auto close = authority.find(']');
    if (close == std::string::npos) return make_error("malformed host");
    p.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return make_error("malformed host");
      p.port = std::atoi(authority.c_str() + close + 2);
    }
  } else {
    auto colon = authority.rfind(':');
    p.host = authority.substr(0, colon);
    if (colon != std::string::npos) p.port = std::atoi(authority.c_str() + colon + 1);
  }
  if (p.host.empty() || p.port <= 0 || p.port > 65535) return make_error("malformed host or port");
  return p;
}

int64_t max_age_of(const std::string& cache_control) {
  int64_t age = 300;
  auto pos = cache_control.find("max-age=");
  if (pos != std::string::npos) age = std::atoll(cache_control.c_str() + pos + 8);
  if (cache_control.find("no-store") != std::string::npos || cache_control.find("no-cache") != std::string::npos)
    age = 60;
  return std::clamp<int64_t>(age, 60, 86400);
}

}  // namespace

Result<std::string> MetadataFetcher::fetch(const std::string& url) {
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(url);
    if (it != cache_.end() && it->second.expires > now) return it->second.body;
  }
  auto doc = fetch_uncached(url);
  if (!doc) return doc.error();
  std::lock_guard lock(mu_);
  if (cache_.size() >= kMaxCacheEntries) cache_.clear();
  cache_[url] = CacheEntry{doc->body, now + std::chrono::seconds(doc->max_age)};
  return doc->body;
}

Result<FetchedDocument> MetadataFetcher::fetch_uncached(const std::string& url) {
  auto parts = split_https_url(url);
  if (!parts) return parts.error();

  // Resolve once, check every address, then connect only to a checked one.
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(parts->host.c_str(), nullptr, &hints, &found) != 0 || found == nullptr)
    return make_error("cannot resolve " + parts->host);
  std::string pinned;
  bool refused = false;
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    if (!config_.cimd_allow_private && !is_public_address(ai->ai_addr)) {
      refused = true;
      continue;
    }
    if (pinned.empty()) pinned = address_text(ai->ai_addr);
  }
  freeaddrinfo(found);
  if (refused && !config_.cimd_allow_private)
    return make_error(parts->host + " resolves to a private or local address; refusing to fetch it");
  if (pinned.empty()) return make_error("no usable address for " + parts->host);

  httplib::SSLClient client(parts->host, parts->port);
  client.set_hostname_addr_map({{parts->host, pinned}});
  client.enable_server_certificate_verification(true);
  X509_STORE* store = X509_STORE_new();
  X509_STORE_load_locations(store, "/etc/ssl/certs/ca-certificates.crt", nullptr);
  if (!config_.extra_ca_file.empty()) X509_STORE_load_locations(store, config_.extra_ca_file.c_str(), nullptr);
  client.set_ca_cert_store(store);  // owned by the client's SSL context from here
  client.set_follow_location(false);
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(5, 0);
  client.set_write_timeout(5, 0);

  std::string body;
  bool too_big = false;
  auto res = client.Get(
      parts->path, httplib::Headers{{"Accept", "application/json"}},
      [&](const char* data, size_t len) {
        if (body.size() + len > kMaxBytes) {
          too_big = true;
          return false;
        }
        body.append(data, len);
        return true;
      });
  if (too_big) return make_error("client metadata document larger than 16 KiB");
  if (!res) return make_error("fetching " + url + " failed: " + httplib::to_string(res.error()));
  if (res->status != 200) return make_error("fetching " + url + " answered HTTP " + std::to_string(res->status));
  return FetchedDocument{body, max_age_of(res->get_header_value("Cache-Control"))};
}

}  // namespace plugauth

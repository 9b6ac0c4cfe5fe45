#include "http/metadata_fetcher.h"

#include "common/url.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netdb.h>
#include <openssl/x509.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "common/log.h"
#include "http/public_address.h"

namespace plugauth {
namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

// For the log: at most 300 bytes (log_line escapes what a stranger wrote).
std::string printable(std::string_view text) {
  return text.size() > 300 ? std::string(text.substr(0, 300)) + "…" : std::string(text);
}

// getaddrinfo(3) cannot be interrupted, so it runs on a thread of its own;
// a lookup still running at the deadline is abandoned and frees its result
// itself when it ends (the resolver's own timeouts end it).
struct Lookup {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;       // guarded by mu
  bool abandoned = false;  // guarded by mu
  int rc = 0;              // guarded by mu
  addrinfo* found = nullptr;  // guarded by mu
};

Result<std::vector<sockaddr_storage>> resolve_before(const std::string& host, SteadyTime deadline) {
  auto lookup = std::make_shared<Lookup>();
  std::thread([lookup, host] {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &found);
    std::lock_guard lock(lookup->mu);
    if (lookup->abandoned) {
      if (found != nullptr) freeaddrinfo(found);
      return;
    }
    lookup->rc = rc;
    lookup->found = found;
    lookup->done = true;
    lookup->cv.notify_all();
  }).detach();
  std::unique_lock lock(lookup->mu);
  if (!lookup->cv.wait_until(lock, deadline, [&] { return lookup->done; })) {
    lookup->abandoned = true;
    return make_error("resolving " + host + " outran the deadline");
  }
  if (lookup->rc != 0 || lookup->found == nullptr) {
    if (lookup->found != nullptr) freeaddrinfo(lookup->found);
    return make_error("cannot resolve " + host + ": " + gai_strerror(lookup->rc));
  }
  std::vector<sockaddr_storage> out;
  for (addrinfo* ai = lookup->found; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_addrlen > sizeof(sockaddr_storage)) continue;
    sockaddr_storage ss{};
    std::memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
    out.push_back(ss);
  }
  freeaddrinfo(lookup->found);
  lookup->found = nullptr;
  return out;
}

// Shuts the connection down at the deadline, whatever httplib is waiting
// for (connect, TLS handshake, headers, body: its own timeouts are per
// read, which a server dripping a byte a second never trips). It holds its
// own duplicate of the socket's descriptor, taken when httplib creates the
// socket: shutdown(2) acts on the connection behind every descriptor, and
// the duplicate cannot be closed and reused under it meanwhile.
class DeadlineGuard {
 public:
  explicit DeadlineGuard(SteadyTime deadline) : deadline_(deadline), thread_([this] { run(); }) {}
  ~DeadlineGuard() {
    {
      std::lock_guard lock(mu_);
      finished_ = true;
    }
    cv_.notify_all();
    thread_.join();
    if (fd_ >= 0) ::close(fd_);
  }
  DeadlineGuard(const DeadlineGuard&) = delete;
  DeadlineGuard& operator=(const DeadlineGuard&) = delete;

  // httplib's socket-options hook: called for each socket it creates.
  void adopt(int sock) {
    std::lock_guard lock(mu_);
    if (fd_ >= 0) ::close(fd_);
    fd_ = ::fcntl(sock, F_DUPFD_CLOEXEC, 0);
    if (expired_ && fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
  }
  bool expired() {
    std::lock_guard lock(mu_);
    return expired_;
  }

 private:
  void run() {
    std::unique_lock lock(mu_);
    if (cv_.wait_until(lock, deadline_, [this] { return finished_; })) return;
    expired_ = true;
    if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
  }

  const SteadyTime deadline_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool finished_ = false;  // guarded by mu_
  bool expired_ = false;   // guarded by mu_
  int fd_ = -1;            // guarded by mu_
  std::thread thread_;     // last: starts once the members above exist
};

std::string address_text(const sockaddr* sa) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (sa->sa_family == AF_INET)
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, buf, sizeof buf);
  else
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, buf, sizeof buf);
  return buf;
}

struct UrlParts {
  std::string host;  // IPv6 literals without their brackets, as getaddrinfo wants them
  int port = 443;
  std::string path;  // with the query, as requested
};

// Through the one URL reader (common/url.h), plus what a client ID
// metadata document URL needs: https, a path, no fragment.
Result<UrlParts> split_https_url(const std::string& url) {
  const auto parsed = parse_url(url);
  if (!parsed || parsed->scheme != "https") return make_error("client_id URL must be a plain https URL");
  if (parsed->has_fragment) return make_error("client_id URL has a fragment");
  if (parsed->path.size() < 2) return make_error("client_id URL needs a path");
  UrlParts p;
  p.host = parsed->host;
  if (p.host.front() == '[') p.host = p.host.substr(1, p.host.size() - 2);
  p.port = parsed->effective_port();
  p.path = parsed->path + (parsed->has_query ? "?" + parsed->query : "");
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
  if (url.size() > 2048) {
    log_warn("client metadata document URL longer than 2048 bytes refused: " + printable(url));
    return make_error(kCouldNotBeFetched);
  }
  const int64_t now = clock_.now();
  {
    std::lock_guard lock(mu_);
    if (auto it = cache_.find(url); it != cache_.end() && it->second.expires > now) return it->second.body;
    // A recent failure is not retried: no stranger makes us fetch it again.
    if (auto it = failures_.find(url); it != failures_.end() && it->second > now) return make_error(kCouldNotBeFetched);
    if (in_flight_ >= kMaxConcurrentFetches) {
      // Not remembered as a failure: the URL itself did nothing wrong.
      log_warn("client metadata document " + printable(url) + " not fetched: " +
               std::to_string(kMaxConcurrentFetches) + " fetches already under way");
      return make_error(kCouldNotBeFetched);
    }
    ++in_flight_;
  }
  Result<FetchedDocument> doc = make_error("not fetched");
  try {
    doc = fetch_uncached(url);
  } catch (const std::exception& e) {  // in_flight_ must come down whatever happens
    doc = make_error(std::string("internal error: ") + e.what());
  }
  if (!doc) log_warn("client metadata document " + printable(url) + " could not be fetched: " + doc.error().message);

  // Full maps drop what has expired, then what expires soonest: bounded
  // memory, and no stranger flushes a whole cache by filling it.
  auto make_room = [now](auto& map, size_t limit, auto expiry_of) {
    if (map.size() < limit) return;
    for (auto it = map.begin(); it != map.end();) it = expiry_of(it->second) <= now ? map.erase(it) : std::next(it);
    while (map.size() >= limit) {
      auto soonest = map.begin();
      for (auto it = map.begin(); it != map.end(); ++it)
        if (expiry_of(it->second) < expiry_of(soonest->second)) soonest = it;
      map.erase(soonest);
    }
  };
  std::lock_guard lock(mu_);
  --in_flight_;
  if (!doc) {
    make_room(failures_, kMaxFailureEntries, [](int64_t until) { return until; });
    failures_[url] = now + kFailureTtl;
    return make_error(kCouldNotBeFetched);
  }
  failures_.erase(url);
  make_room(cache_, kMaxCacheEntries, [](const CacheEntry& e) { return e.expires; });
  cache_[url] = CacheEntry{doc->body, now + doc->max_age};
  return doc->body;
}

Result<FetchedDocument> MetadataFetcher::fetch_uncached(const std::string& url) {
  const SteadyTime deadline = std::chrono::steady_clock::now() + kDeadline;
  auto parts = split_https_url(url);
  if (!parts) return parts.error();

  // Resolve once, check every address, then connect only to a checked one.
  auto addresses = resolve_before(parts->host, deadline);
  if (!addresses) return addresses.error();
  std::string pinned;
  for (const auto& ss : *addresses) {
    const auto* sa = reinterpret_cast<const sockaddr*>(&ss);
    if (!config_.cimd_allow_private && !is_public_address(sa))
      return make_error(parts->host + " resolves to " + address_text(sa) + ", not a public address; refusing it");
    if (pinned.empty()) pinned = address_text(sa);
  }
  if (pinned.empty()) return make_error("no usable address for " + parts->host);

  const auto remaining = std::chrono::duration_cast<std::chrono::microseconds>(deadline - std::chrono::steady_clock::now());
  if (remaining.count() <= 0) return make_error("the deadline passed before connecting");
  DeadlineGuard guard(deadline);
  httplib::SSLClient client(parts->host, parts->port);
  client.set_hostname_addr_map({{parts->host, pinned}});
  client.set_socket_options([&guard](socket_t sock) { guard.adopt(sock); });
  client.enable_server_certificate_verification(true);
  X509_STORE* store = X509_STORE_new();
  X509_STORE_load_locations(store, "/etc/ssl/certs/ca-certificates.crt", nullptr);
  if (!config_.extra_ca_file.empty()) X509_STORE_load_locations(store, config_.extra_ca_file.c_str(), nullptr);
  client.set_ca_cert_store(store);  // owned by the client's SSL context from here
  client.set_follow_location(false);
  client.set_keep_alive(false);
  client.set_connection_timeout(remaining);
  client.set_read_timeout(remaining);
  client.set_write_timeout(remaining);

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
        return std::chrono::steady_clock::now() < deadline;
      });
  if (too_big) return make_error("larger than 16 KiB");
  if (guard.expired() || std::chrono::steady_clock::now() >= deadline)
    return make_error("cut off at the " + std::to_string(kDeadline.count() / 1000) + " s deadline of the whole fetch");
  if (!res) return make_error(httplib::to_string(res.error()));
  if (res->status != 200) return make_error("answered HTTP " + std::to_string(res->status));
  return FetchedDocument{body, max_age_of(res->get_header_value("Cache-Control"))};
}

}  // namespace plugauth

// Fetches OAuth Client ID Metadata Documents (an https client_id is a URL
// whose JSON names the client). The URL is a stranger's choice, so the
// fetch is guarded (SPEC §3, §8.14):
// - the host is resolved first and every address must be public
//   (http/public_address.h) unless `cimd_allow_private` (tests only); the
//   connection is pinned to a checked address (no DNS rebinding);
// - no redirects; at most 16 KiB; TLS verified against the system CA bundle
//   plus `extra_ca_file`;
// - one deadline for the whole fetch, kDeadline from the start: name
//   resolution, connect, TLS handshake, headers and body together, so a
//   server that drips a byte a second holds a worker kDeadline, not minutes;
// - at most kMaxConcurrentFetches at once; more are refused, not queued;
// - successes are cached per the document's Cache-Control (60 s to a day),
//   failures for kFailureTtl, both in bounded maps, so a stranger cannot make
//   the daemon fetch one URL again and again.
// Every failure reaches the caller as the one message kCouldNotBeFetched:
// whether a name resolves, an address is private, a port is open or what a
// server answered goes to the log only, never to the browser.
//
// Thread safety: fetch() may be called concurrently.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "config/config.h"

namespace plugauth {

struct FetchedDocument {
  std::string body;
  int64_t max_age = 300;  // from Cache-Control, clamped to [60, 86400]
};

class MetadataFetcher {
 public:
  static constexpr size_t kMaxBytes = 16 * 1024;
  static constexpr size_t kMaxCacheEntries = 1000;
  static constexpr size_t kMaxFailureEntries = 1000;
  static constexpr int64_t kFailureTtl = 300;
  static constexpr size_t kMaxConcurrentFetches = 8;
  static constexpr std::chrono::milliseconds kDeadline{5000};
  static constexpr const char* kCouldNotBeFetched = "the client metadata document could not be fetched";

  MetadataFetcher(const Config& config, const Clock& clock) : config_(config), clock_(clock) {}
  virtual ~MetadataFetcher() = default;

  // The document's body, from the cache or fetched; on any failure the
  // error is kCouldNotBeFetched (the reason is logged).
  Result<std::string> fetch(const std::string& url);

 private:
  Result<FetchedDocument> fetch_uncached(const std::string& url);

  struct CacheEntry {
    std::string body;
    int64_t expires = 0;
  };
  const Config& config_;
  const Clock& clock_;
  std::mutex mu_;
  std::map<std::string, CacheEntry> cache_;    // guarded by mu_
  std::map<std::string, int64_t> failures_;    // URL → until when it is not fetched again; guarded by mu_
  size_t in_flight_ = 0;                       // guarded by mu_
};

}  // namespace plugauth

// Fetches OAuth Client ID Metadata Documents (an https client_id is a URL
// whose JSON names the client). The fetch is an SSRF risk, so it is guarded:
// the host is resolved first and private, loopback, link-local, unique-local
// and unspecified addresses are refused (unless `cimd_allow_private`, for
// tests); the connection is pinned to the checked address (no DNS
// rebinding); no redirects; at most 5 s per step and 16 KiB; TLS verified
// against the system CA bundle plus `extra_ca_file`.
//
// Thread safety: fetch() may be called concurrently.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>

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

  explicit MetadataFetcher(const Config& config) : config_(config) {}
  virtual ~MetadataFetcher() = default;

  // Cached per the document's Cache-Control max-age.
  Result<std::string> fetch(const std::string& url);

 private:
  Result<FetchedDocument> fetch_uncached(const std::string& url);

  struct CacheEntry {
    std::string body;
    std::chrono::steady_clock::time_point expires;
  };
  const Config& config_;
  std::mutex mu_;
  std::map<std::string, CacheEntry> cache_;  // guarded by mu_
};

}  // namespace plugauth

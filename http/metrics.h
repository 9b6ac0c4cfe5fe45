// Counters for GET /metrics (Prometheus text exposition format 0.0.4).
// Lock-free: every counter is a relaxed atomic bumped on the hot path.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "auth/verifier.h"
#include "store/store.h"

namespace plugauth {

class Metrics {
 public:
  static constexpr size_t kTypes = 5;     // oauth, api_key, service, client, none
  static constexpr size_t kOutcomes = 4;  // ok, no_credentials, invalid_token, insufficient_scope
  static constexpr std::array<double, 11> kLatencyBuckets = {0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005,
                                                             0.001,   0.0025,   0.005,   0.01,   0.05};

  Metrics();
  // `type` is nullptr when no credential identified a type.
  void record_verify(const Identity* identity, VerifyResult result, std::chrono::nanoseconds latency);
  // Counts what an audit event says happened (token requests by grant and
  // result, sign-ins, throttling, registrations): the audit queue calls it
  // for every event it is given, so /metrics and `plugauth audit` agree.
  void observe(const store::AuditEvent& event);
  // One request answered outside the gateway's fast lane (its /verify
  // outcomes are plugauth_verify_total): by route, the path when it is one
  // of plugauth's, else "other", so strangers' paths cannot add series.
  void record_http(std::string_view path, int status);

  struct Gauges {
    uint64_t cache_hits = 0;
    uint64_t cache_misses = 0;
    uint64_t cache_evictions = 0;
    size_t audit_queue_depth = 0;
    uint64_t audit_full_waits = 0;
    uint64_t audit_coalesced = 0;
    uint64_t sign_in_locks = 0;
    std::optional<int64_t> signing_key_age;  // seconds; none before the first key
  };
  std::string render(const Gauges& gauges) const;

 private:
  std::chrono::steady_clock::time_point started_;
  std::array<std::array<std::atomic<uint64_t>, kOutcomes>, kTypes> verify_{};
  std::array<std::atomic<uint64_t>, kLatencyBuckets.size() + 1> latency_buckets_{};
  std::atomic<uint64_t> latency_count_{0};
  std::atomic<uint64_t> latency_sum_ns_{0};
  // Labelled counters off the hot path: family -> labels -> count.
  void bump(const char* family, std::string labels, uint64_t by = 1);
  mutable std::mutex labelled_mu_;
  std::map<std::string, std::map<std::string, uint64_t>> labelled_;  // guarded by labelled_mu_
};

}  // namespace plugauth

// Counters for GET /metrics (Prometheus text exposition format 0.0.4).
// Lock-free: every counter is a relaxed atomic bumped on the hot path.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "auth/verifier.h"

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

  struct Gauges {
    uint64_t cache_hits = 0;
    uint64_t cache_misses = 0;
    uint64_t cache_evictions = 0;
    size_t audit_queue_depth = 0;
    uint64_t audit_full_waits = 0;
    uint64_t audit_coalesced = 0;
    uint64_t sign_in_locks = 0;
  };
  std::string render(const Gauges& gauges) const;

 private:
  std::chrono::steady_clock::time_point started_;
  std::array<std::array<std::atomic<uint64_t>, kOutcomes>, kTypes> verify_{};
  std::array<std::atomic<uint64_t>, kLatencyBuckets.size() + 1> latency_buckets_{};
  std::atomic<uint64_t> latency_count_{0};
  std::atomic<uint64_t> latency_sum_ns_{0};
};

}  // namespace plugauth

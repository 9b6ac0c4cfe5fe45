// Throttling of repeated failures (SPEC §8.9): once `limit` attempts for one
// key (an account, a client or an IP) have failed within the window, further
// attempts are refused until a wait that doubles with every failure past the
// limit — even with the right secret, so guessing cannot continue.
//
// In memory and bounded: a restart forgets the counts, and past kMaxKeys
// the oldest windows are dropped.
//
// Thread safety: all methods may be called concurrently.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/clock.h"

namespace plugauth {

class FailureThrottle {
 public:
  static constexpr size_t kMaxKeys = 100000;
  static constexpr int64_t kWindowSeconds = 15 * 60;
  static constexpr int64_t kBaseWaitSeconds = 30;
  static constexpr int64_t kMaxWaitSeconds = 86400;

  explicit FailureThrottle(const Clock& clock) : clock_(clock) {}

  // Seconds to wait if `key` (with `limit`) is blocked now; nullopt if not.
  std::optional<int64_t> blocked(const std::string& key, int limit) const;
  void record_failure(const std::string& key, int limit);
  void record_success(const std::string& key);
  // `user unlock`: a window whose failures began at or before `time` is
  // forgotten, wait included.
  void forget_failures_before(const std::string& key, int64_t time);

  // Accounts whose sign-in this daemon locked after wrong authenticator
  // codes (the lock itself is in the database; see auth/login.h), for
  // /metrics.
  void count_sign_in_lock() { sign_in_locks_.fetch_add(1, std::memory_order_relaxed); }
  uint64_t sign_in_locks() const { return sign_in_locks_.load(std::memory_order_relaxed); }

 private:
  struct Window {
    int64_t first_failure = 0;
    int failures = 0;
    int64_t blocked_until = 0;
  };
  const Clock& clock_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Window> windows_;  // guarded by mu_
  std::atomic<uint64_t> sign_in_locks_{0};
};

// SPEC §8.9 defaults.
constexpr int kAccountFailureLimit = 10;
constexpr int kIpFailureLimit = 50;

}  // namespace plugauth

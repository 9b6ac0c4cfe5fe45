// Throttling of repeated failures (SPEC §8.9): once `limit` attempts for one
// key (an account, a client or an address) have failed within the window,
// further attempts are refused until a wait that doubles with every failure
// past the limit — even with the right secret, so guessing cannot continue.
//
// The check and the count are one step. For a slow check (a password hash)
// `admit` lets an attempt in only while the failures so far plus the attempts
// still in flight are under the limit, and `finish` says how it went; so a
// burst of parallel guesses gets no more than `limit` of them, as a sequence
// would, and the ones past the limit are told "busy", not "failed". For a
// cheap check (a client secret's hash) `attempt` runs it under the lock:
// exact, and no limit on how many succeed at once.
//
// Two tables, both in memory (a restart forgets the counts) and bounded:
//   - identities: accounts and clients that exist. Callers pass an identity
//     key only for a name that is in the database, so a flood of made-up
//     names or client ids never enters this table and never pushes a real
//     account's lockout out of it.
//   - addresses: one window per IPv4 address or IPv6 /64 (one host usually
//     holds a whole /64). When full, the oldest window that is not blocking
//     anyone is evicted; blocked windows are kept. If every window is
//     blocking (millions of failures), a new address is not tracked: the
//     per-account limit still holds for it.
//
// Thread safety: all methods may be called concurrently.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/clock.h"

namespace plugauth {

struct ThrottleKey {
  std::string name;  // "user:alice", "client:c_1", or FailureThrottle::address_key(ip)
  int limit = 0;
  bool address = false;  // which table: addresses (evicting) or identities
  // 0: the failure window, and a wait that doubles past the limit. Else a
  // plain budget: `limit` per `window` seconds from the first (registrations).
  int64_t window = 0;
};

// Why an attempt was not let in: `busy` when the limit is taken by attempts
// still in flight (try again in a second), else a lockout of `seconds`.
struct ThrottleRefusal {
  int64_t seconds = 0;
  bool busy = false;
};

enum class AttemptOutcome { Succeeded, Failed, NotTried };

class FailureThrottle {
 public:
  static constexpr size_t kMaxAddresses = 100000;
  static constexpr size_t kMaxIdentities = 100000;
  static constexpr int64_t kWindowSeconds = 15 * 60;
  static constexpr int64_t kBaseWaitSeconds = 30;
  static constexpr int64_t kMaxWaitSeconds = 86400;

  explicit FailureThrottle(const Clock& clock, size_t max_addresses = kMaxAddresses,
                           size_t max_identities = kMaxIdentities);

  // If any key is blocked now, or its limit is taken by failures and attempts
  // in flight, the refusal (the longest wait) and nothing is counted; else
  // the attempt is in flight for every key and nullopt is returned. Every
  // admitted attempt is finished exactly once (see ThrottleAttempt).
  std::optional<ThrottleRefusal> admit(const std::vector<ThrottleKey>& keys);
  // A failure counts against every key; a success ends an identity's run of
  // failures (unless it is blocking); NotTried (no secret was checked)
  // counts nothing.
  void finish(const std::vector<ThrottleKey>& keys, AttemptOutcome outcome);
  // Counts one event (a registration) if no key is spent: one step.
  std::optional<ThrottleRefusal> count(const std::vector<ThrottleKey>& keys) {
    bool ok = false;
    return attempt(keys, [] { return false; }, &ok);
  }
  // SPEC §8.9: 20 dynamic registrations an hour per client address.
  static ThrottleKey registration_key(std::string_view client_ip) {
    return {"registrations " + address_key(client_ip), 20, true, 3600};
  }
  // Checks and counts in one step under the lock: `check` must be quick.
  // nullopt when `check` ran (its answer in `*ok`).
  template <typename Check>
  std::optional<ThrottleRefusal> attempt(const std::vector<ThrottleKey>& keys, Check&& check, bool* ok) {
    std::lock_guard lock(mu_);
    if (auto refusal = refusal_of(keys, clock_.now())) return refusal;
    *ok = check();
    record(keys, *ok ? AttemptOutcome::Succeeded : AttemptOutcome::Failed, clock_.now(), false);
    return std::nullopt;
  }
  // Seconds to wait if `key` is blocked now; nullopt if not. Counts nothing.
  std::optional<int64_t> blocked(const ThrottleKey& key) const;
  // `user unlock`: an identity's window whose failures began at or before
  // `time` is forgotten, wait included.
  void forget_failures_before(const std::string& identity, int64_t time);

  // The address table's key for a client address: "ip:" and the IPv4
  // address, or the IPv6 address's /64 ("ip6:2001:db8:1:2::/64"); an IPv4
  // address mapped into IPv6 is the IPv4 address. Anything that does not
  // parse is kept as given (it never comes from a socket).
  static std::string address_key(std::string_view client_ip);

  size_t tracked_addresses() const;
  size_t tracked_identities() const;

  // Accounts whose sign-in this daemon locked after wrong authenticator
  // codes (the lock itself is in the database; see auth/login.h), for
  // /metrics.
  void count_sign_in_lock() { sign_in_locks_.fetch_add(1, std::memory_order_relaxed); }
  uint64_t sign_in_locks() const { return sign_in_locks_.load(std::memory_order_relaxed); }

 private:
  struct Window {
    int64_t first_failure = 0;
    int failures = 0;
    int in_flight = 0;
    int64_t blocked_until = 0;
  };
  struct Table {
    size_t capacity = 0;
    std::unordered_map<std::string, Window> windows;
    std::deque<std::string> order;  // keys in the order their windows opened; may hold stale keys
  };

  Table& table_of(const ThrottleKey& key) { return key.address ? addresses_ : identities_; }
  const Table& table_of(const ThrottleKey& key) const { return key.address ? addresses_ : identities_; }
  std::optional<int64_t> wait_of(const Table& table, const ThrottleKey& key, int64_t now) const;
  std::optional<ThrottleRefusal> refusal_of(const std::vector<ThrottleKey>& keys, int64_t now) const;
  void record(const std::vector<ThrottleKey>& keys, AttemptOutcome outcome, int64_t now, bool was_in_flight);
  // The window for `key`, opened if need be; nullptr if the table is full of
  // blocking windows.
  Window* window_for(Table& table, const std::string& key, int64_t now);
  bool make_room(Table& table, int64_t now);

  const Clock& clock_;
  mutable std::mutex mu_;
  Table addresses_;   // guarded by mu_
  Table identities_;  // guarded by mu_
  std::atomic<uint64_t> sign_in_locks_{0};
};

// An admitted attempt, finished as failed unless told otherwise: a path that
// returns early counts as a failure, never leaves a slot taken.
class ThrottleAttempt {
 public:
  ThrottleAttempt(FailureThrottle& throttle, std::vector<ThrottleKey> keys)
      : throttle_(throttle), keys_(std::move(keys)) {}
  ThrottleAttempt(const ThrottleAttempt&) = delete;
  ThrottleAttempt& operator=(const ThrottleAttempt&) = delete;
  ~ThrottleAttempt() { finish(AttemptOutcome::Failed); }
  void finish(AttemptOutcome outcome) {
    if (done_) return;
    done_ = true;
    throttle_.finish(keys_, outcome);
  }

 private:
  FailureThrottle& throttle_;
  std::vector<ThrottleKey> keys_;
  bool done_ = false;
};

// SPEC §8.9 defaults.
constexpr int kAccountFailureLimit = 10;
constexpr int kIpFailureLimit = 50;

}  // namespace plugauth

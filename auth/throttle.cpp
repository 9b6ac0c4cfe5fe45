#include "auth/throttle.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace plugauth {

FailureThrottle::FailureThrottle(const Clock& clock, size_t max_addresses, size_t max_identities) : clock_(clock) {
  addresses_.capacity = std::max<size_t>(max_addresses, 1);
  identities_.capacity = std::max<size_t>(max_identities, 1);
}

std::string FailureThrottle::address_key(std::string_view client_ip) {
  const std::string ip(client_ip);
  in6_addr v6{};
  if (inet_pton(AF_INET6, ip.c_str(), &v6) == 1) {
    static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(v6.s6_addr, kMapped, sizeof kMapped) == 0) {
      char v4[INET_ADDRSTRLEN];
      inet_ntop(AF_INET, v6.s6_addr + 12, v4, sizeof v4);
      return std::string("ip:") + v4;
    }
    std::memset(v6.s6_addr + 8, 0, 8);
    char text[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, &v6, text, sizeof text);
    return std::string("ip6:") + text + "/64";
  }
  in_addr v4{};
  if (inet_pton(AF_INET, ip.c_str(), &v4) == 1) {
    char text[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &v4, text, sizeof text);
    return std::string("ip:") + text;
  }
  return "ip:" + ip;
}

std::optional<int64_t> FailureThrottle::wait_of(const Table& table, const ThrottleKey& key, int64_t now) const {
  auto it = table.windows.find(key.name);
  if (it == table.windows.end()) return std::nullopt;
  if (it->second.failures >= key.limit && it->second.blocked_until > now) return it->second.blocked_until - now;
  return std::nullopt;
}

bool FailureThrottle::make_room(Table& table, int64_t now) {
  // Stale keys (windows already gone) are skipped; a blocking window goes to
  // the back. Bounded work per call: a table full of blocking windows costs
  // each new key a few dozen steps, not a scan.
  for (int examined = 0; examined < 64 && !table.order.empty(); ++examined) {
    std::string key = std::move(table.order.front());
    table.order.pop_front();
    auto it = table.windows.find(key);
    if (it == table.windows.end()) {
      --examined;  // stale: costs nothing but the pop
      continue;
    }
    if (it->second.blocked_until > now || it->second.in_flight > 0) {  // kept: it blocks, or is counting
      table.order.push_back(std::move(key));
      continue;
    }
    table.windows.erase(it);
    return true;
  }
  return false;
}

FailureThrottle::Window* FailureThrottle::window_for(Table& table, const std::string& key, int64_t now) {
  auto it = table.windows.find(key);
  if (it != table.windows.end()) return &it->second;
  if (table.windows.size() >= table.capacity && !make_room(table, now)) return nullptr;
  // Stale keys in the order are dropped once they outnumber the live ones.
  if (table.order.size() > 2 * table.capacity) {
    std::deque<std::string> live;
    for (auto& k : table.order)
      if (table.windows.count(k)) live.push_back(std::move(k));
    table.order = std::move(live);
  }
  table.order.push_back(key);
  return &table.windows[key];
}

namespace {
int64_t window_of(const ThrottleKey& key) { return key.window ? key.window : FailureThrottle::kWindowSeconds; }
}  // namespace

std::optional<ThrottleRefusal> FailureThrottle::refusal_of(const std::vector<ThrottleKey>& keys,
                                                           int64_t now) const {
  std::optional<ThrottleRefusal> worst;
  for (const auto& key : keys) {
    if (auto wait = wait_of(table_of(key), key, now)) {
      if (!worst || worst->busy || *wait > worst->seconds) worst = ThrottleRefusal{*wait, false};
      continue;
    }
    const Table& table = table_of(key);
    auto it = table.windows.find(key.name);
    if (it == table.windows.end() || worst) continue;
    const Window& w = it->second;
    const bool expired = w.first_failure + window_of(key) < now && w.blocked_until <= now;
    // Past a served wait, one attempt at a time: the limit is already taken.
    if (w.in_flight > 0 && (expired ? 0 : w.failures) + w.in_flight >= key.limit) worst = ThrottleRefusal{1, true};
  }
  return worst;
}

std::optional<ThrottleRefusal> FailureThrottle::admit(const std::vector<ThrottleKey>& keys) {
  std::lock_guard lock(mu_);
  const int64_t now = clock_.now();
  if (auto refusal = refusal_of(keys, now)) return refusal;
  for (const auto& key : keys)
    if (Window* w = window_for(table_of(key), key.name, now)) ++w->in_flight;
  return std::nullopt;
}

void FailureThrottle::finish(const std::vector<ThrottleKey>& keys, AttemptOutcome outcome) {
  std::lock_guard lock(mu_);
  record(keys, outcome, clock_.now(), true);
}

void FailureThrottle::record(const std::vector<ThrottleKey>& keys, AttemptOutcome outcome, int64_t now,
                             bool was_in_flight) {
  for (const auto& key : keys) {
    Table& table = table_of(key);
    Window* w = nullptr;
    if (outcome == AttemptOutcome::Failed) {
      w = window_for(table, key.name, now);
    } else if (auto it = table.windows.find(key.name); it != table.windows.end()) {
      w = &it->second;
    }
    if (w == nullptr) continue;  // a table full of blocking windows; or nothing to count
    if (was_in_flight && w->in_flight > 0) --w->in_flight;
    if (outcome == AttemptOutcome::Failed) {
      if (w->failures > 0 && w->first_failure + window_of(key) < now && w->blocked_until <= now) {
        w->failures = 0;
        w->blocked_until = 0;
      }
      if (w->failures == 0) w->first_failure = now;
      ++w->failures;
      if (w->failures >= key.limit) {
        const int over = std::min(w->failures - key.limit, 20);
        w->blocked_until = key.window ? w->first_failure + key.window
                                      : now + std::min<int64_t>(kBaseWaitSeconds << over, kMaxWaitSeconds);
      }
    } else if (outcome == AttemptOutcome::Succeeded && !key.address && w->blocked_until <= now) {
      w->failures = 0;  // the identity's run of failures ends
    }
    if (w->failures == 0 && w->in_flight == 0) table.windows.erase(key.name);
  }
}

std::optional<int64_t> FailureThrottle::blocked(const ThrottleKey& key) const {
  std::lock_guard lock(mu_);
  return wait_of(table_of(key), key, clock_.now());
}

void FailureThrottle::forget_failures_before(const std::string& identity, int64_t time) {
  std::lock_guard lock(mu_);
  auto it = identities_.windows.find(identity);
  if (it != identities_.windows.end() && it->second.first_failure <= time) identities_.windows.erase(it);
}

size_t FailureThrottle::tracked_addresses() const {
  std::lock_guard lock(mu_);
  return addresses_.windows.size();
}

size_t FailureThrottle::tracked_identities() const {
  std::lock_guard lock(mu_);
  return identities_.windows.size();
}

}  // namespace plugauth

#include "auth/throttle.h"

#include <algorithm>

namespace plugauth {

std::optional<int64_t> FailureThrottle::blocked(const std::string& key, int limit) const {
  std::lock_guard lock(mu_);
  auto it = windows_.find(key);
  if (it == windows_.end()) return std::nullopt;
  const int64_t now = clock_.now();
  if (it->second.failures >= limit && it->second.blocked_until > now) return it->second.blocked_until - now;
  return std::nullopt;
}

void FailureThrottle::record_failure(const std::string& key, int limit) {
  std::lock_guard lock(mu_);
  const int64_t now = clock_.now();
  if (windows_.size() >= kMaxKeys && !windows_.count(key)) {
    for (auto it = windows_.begin(); it != windows_.end();) {
      it = (it->second.first_failure + kWindowSeconds < now && it->second.blocked_until <= now) ? windows_.erase(it)
                                                                                               : std::next(it);
    }
    if (windows_.size() >= kMaxKeys) windows_.clear();
  }
  Window& w = windows_[key];
  if (w.failures > 0 && w.first_failure + kWindowSeconds < now && w.blocked_until <= now) w = Window{};
  if (w.failures == 0) w.first_failure = now;
  ++w.failures;
  if (w.failures >= limit) {
    const int over = std::min(w.failures - limit, 20);
    w.blocked_until = now + std::min<int64_t>(kBaseWaitSeconds << over, kMaxWaitSeconds);
  }
}

void FailureThrottle::record_success(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = windows_.find(key);
  if (it != windows_.end() && it->second.blocked_until <= clock_.now()) windows_.erase(it);
}

void FailureThrottle::forget_failures_before(const std::string& key, int64_t time) {
  std::lock_guard lock(mu_);
  auto it = windows_.find(key);
  if (it != windows_.end() && it->second.first_failure <= time) windows_.erase(it);
}

}  // namespace plugauth

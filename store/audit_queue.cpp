#include "store/audit_queue.h"

#include <functional>
#include <string_view>

namespace plugauth::store {
namespace {

size_t hash_of(const AuditEvent& e) {
  size_t h = std::hash<int64_t>{}(e.at) ^ (std::hash<int>{}(e.status) << 1);
  for (const std::string* s : {&e.action, &e.subject, &e.client_id, &e.key_id, &e.api_path, &e.client_ip, &e.detail})
    h = h * 1099511628211u ^ std::hash<std::string_view>{}(*s);
  return h;
}

}  // namespace

void AuditQueue::push(AuditEvent event) {
  if (observer_) observer_(event);
  const size_t h = hash_of(event);
  std::unique_lock lock(mu_);
  for (bool waited = false;; waited = true) {
    auto [first, last] = index_.equal_range(h);
    for (auto it = first; it != last; ++it) {
      AuditEvent& waiting = pending_[it->second];
      if (waiting.same_event(event)) {
        waiting.count += event.count;
        coalesced_.fetch_add(1, std::memory_order_relaxed);
        return;
      }
    }
    if (pending_.size() < kMaxPending) break;
    if (!waited) full_waits_.fetch_add(1, std::memory_order_relaxed);
    room_.wait(lock);
  }
  index_.emplace(h, pending_.size());
  pending_.push_back(std::move(event));
}

size_t AuditQueue::flush(Store& store) {
  std::vector<AuditEvent> batch;
  {
    std::lock_guard lock(mu_);
    batch.swap(pending_);
    index_.clear();
  }
  try {
    store.append_audit_events(batch);
  } catch (...) {
    // Back in front of what came meanwhile, identical events folded again.
    std::lock_guard lock(mu_);
    std::vector<AuditEvent> newer;
    newer.swap(pending_);
    pending_ = std::move(batch);
    index_.clear();
    for (size_t i = 0; i < pending_.size(); ++i) index_.emplace(hash_of(pending_[i]), i);
    for (auto& e : newer) {
      const size_t h = hash_of(e);
      bool folded = false;
      auto [first, last] = index_.equal_range(h);
      for (auto it = first; it != last && !folded; ++it)
        if (pending_[it->second].same_event(e)) {
          pending_[it->second].count += e.count;
          folded = true;
        }
      if (!folded) {
        index_.emplace(h, pending_.size());
        pending_.push_back(std::move(e));
      }
    }
    throw;
  }
  room_.notify_all();
  return batch.size();
}

size_t AuditQueue::depth() const {
  std::lock_guard lock(mu_);
  return pending_.size();
}

}  // namespace plugauth::store

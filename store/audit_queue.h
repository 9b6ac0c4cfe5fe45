// Audit events are recorded off the hot path: a request pushes onto this
// bounded in-memory queue (one short mutex hold) and a background thread
// writes batches with Store::append_audit_events. An event identical to one
// already waiting (same second, same fields) only raises that one's count,
// so a flood of one refusal costs a row per second, not a row per request.
// No event is lost (SPEC §9): when the queue is full, a new distinct event
// waits for the next write to make room (it takes 100,000 distinct events
// within one 200 ms flush interval); a write that fails keeps its batch
// for the next try.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "store/store.h"

namespace plugauth::store {

class AuditQueue {
 public:
  static constexpr size_t kMaxPending = 100000;  // distinct events waiting

  // Called with every event pushed (before folding), from the pushing
  // thread; set once, before any push. /metrics counts through it.
  void set_observer(std::function<void(const AuditEvent&)> observer) { observer_ = std::move(observer); }
  void push(AuditEvent event);
  // Writes everything pending in one transaction; returns how many rows. If
  // the write throws, the events stay queued (ahead of newer ones) and the
  // exception goes on to the caller.
  size_t flush(Store& store);
  size_t depth() const;
  // Pushes that waited for room; 0 in anything but a flood.
  uint64_t full_waits() const { return full_waits_.load(std::memory_order_relaxed); }
  // Events folded into an identical waiting one instead of getting a row.
  uint64_t coalesced() const { return coalesced_.load(std::memory_order_relaxed); }

 private:
  mutable std::mutex mu_;
  std::vector<AuditEvent> pending_;                 // guarded by mu_
  std::unordered_multimap<size_t, size_t> index_;  // hash -> index in pending_; guarded by mu_
  std::function<void(const AuditEvent&)> observer_;
  std::condition_variable room_;
  std::atomic<uint64_t> full_waits_{0};
  std::atomic<uint64_t> coalesced_{0};
};

}  // namespace plugauth::store

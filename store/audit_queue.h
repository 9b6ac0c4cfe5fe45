// Audit events are recorded off the hot path: a request pushes onto this
// bounded in-memory queue (one short mutex hold) and a background thread
// writes batches with Store::append_audit_events. An event identical to one
// already waiting (same second, same fields) only raises that one's count,
// so a flood of one refusal costs a row per second, not a row per request.
// When the queue is full, a new distinct event is counted as dropped rather
// than slowing or failing the request.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "store/store.h"

namespace plugauth::store {

class AuditQueue {
 public:
  static constexpr size_t kMaxPending = 100000;  // distinct events waiting

  void push(AuditEvent event);
  // Writes everything pending in one transaction; returns how many rows.
  size_t flush(Store& store);
  size_t depth() const;
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  // Events folded into an identical waiting one instead of getting a row.
  uint64_t coalesced() const { return coalesced_.load(std::memory_order_relaxed); }

 private:
  mutable std::mutex mu_;
  std::vector<AuditEvent> pending_;                 // guarded by mu_
  std::unordered_multimap<size_t, size_t> index_;  // hash -> index in pending_; guarded by mu_
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> coalesced_{0};
};

}  // namespace plugauth::store

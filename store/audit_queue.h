// Audit events are recorded off the hot path: a request pushes onto this
// bounded in-memory queue (one short mutex hold) and a background thread
// writes batches with Store::append_audit_events. When the queue is full the
// event is counted as dropped rather than slowing or failing the request.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

#include "store/store.h"

namespace plugauth::store {

class AuditQueue {
 public:
  static constexpr size_t kMaxPending = 100000;

  void push(AuditEvent event);
  // Writes everything pending in one transaction; returns how many.
  size_t flush(Store& store);
  size_t depth() const;
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  mutable std::mutex mu_;
  std::vector<AuditEvent> pending_;  // guarded by mu_
  std::atomic<uint64_t> dropped_{0};
};

}  // namespace plugauth::store

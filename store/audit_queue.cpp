#include "store/audit_queue.h"

namespace plugauth::store {

void AuditQueue::push(AuditEvent event) {
  std::lock_guard lock(mu_);
  if (pending_.size() >= kMaxPending) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  pending_.push_back(std::move(event));
}

size_t AuditQueue::flush(Store& store) {
  std::vector<AuditEvent> batch;
  {
    std::lock_guard lock(mu_);
    batch.swap(pending_);
  }
  store.append_audit_events(batch);
  return batch.size();
}

size_t AuditQueue::depth() const {
  std::lock_guard lock(mu_);
  return pending_.size();
}

}  // namespace plugauth::store

// The verified-credential cache's policy (issue 18, item 6): bounded, least
// recently used entries go first, and refusals live in their own, smaller
// share. A stranger can make up endless well-formed credentials that fail;
// if their refusals competed with the valid keys and tokens for one pool (or
// if a full pool were simply cleared, as it once was), a flood of them
// would push every real credential out, and each /verify would pay a hash
// lookup in the database or a signature check again. Here a refusal can
// only ever evict another refusal. (Credentials that do not even parse are
// never offered to the cache: see Verifier::verify.)
//
// Thread safety: all methods may be called concurrently (one mutex; a hit
// moves its entry to the front of its list, a few pointer writes).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

namespace plugauth {

template <typename Value>
class VerifyCache {
 public:
  enum class Kind { Valid, Refusal };

  VerifyCache(size_t valid_capacity, size_t refusal_capacity)
      : capacity_{valid_capacity, refusal_capacity} {}

  // The cached value, marking it most recently used; a default Value if none.
  Value find(const std::string& key) {
    std::lock_guard lock(mu_);
    auto it = index_.find(key);
    if (it == index_.end()) return Value();
    Slot& slot = it->second;
    auto& list = lists_[static_cast<int>(slot.kind)];
    list.splice(list.begin(), list, slot.position);
    return slot.value;
  }

  // Inserts or replaces; evicts the least recently used entry of the same
  // kind when that kind's share is full.
  void insert(const std::string& key, Value value, Kind kind) {
    std::lock_guard lock(mu_);
    if (auto it = index_.find(key); it != index_.end()) erase_locked(it);
    const int k = static_cast<int>(kind);
    auto& list = lists_[k];
    if (capacity_[k] == 0) return;
    while (list.size() >= capacity_[k]) {
      index_.erase(list.back());
      list.pop_back();
      evictions_.fetch_add(1, std::memory_order_relaxed);
    }
    list.push_front(key);
    index_.emplace(key, Slot{std::move(value), kind, list.begin()});
  }

  void clear() {
    std::lock_guard lock(mu_);
    index_.clear();
    lists_[0].clear();
    lists_[1].clear();
  }

  size_t size(Kind kind) const {
    std::lock_guard lock(mu_);
    return lists_[static_cast<int>(kind)].size();
  }
  uint64_t evictions() const { return evictions_.load(std::memory_order_relaxed); }

 private:
  struct Slot {
    Value value;
    Kind kind;
    std::list<std::string>::iterator position;
  };
  using Index = std::unordered_map<std::string, Slot>;

  void erase_locked(typename Index::iterator it) {
    lists_[static_cast<int>(it->second.kind)].erase(it->second.position);
    index_.erase(it);
  }

  const size_t capacity_[2];
  mutable std::mutex mu_;
  Index index_;                     // guarded by mu_
  std::list<std::string> lists_[2];  // guarded by mu_; most recently used first
  std::atomic<uint64_t> evictions_{0};
};

}  // namespace plugauth

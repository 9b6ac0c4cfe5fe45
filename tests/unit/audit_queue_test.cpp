// AuditQueue against a real Store: identical events of one second become
// one row with a count; anything that differs keeps its own row.
#include <SQLiteCpp/SQLiteCpp.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <thread>
#include <vector>

#include "store/audit_queue.h"
#include "store/store.h"
#include "tests/unit/temp_dir.h"

using plugauth::store::AuditEvent;
using plugauth::store::AuditQuery;
using plugauth::store::AuditQueue;
using plugauth::store::Store;
using plugauth::testing::TempDir;

namespace {

AuditEvent refusal(int64_t at) {
  return {at, "verify_failed", "", "", "pak_1", "/api/items", 401, "127.0.0.1", "malformed or forged token"};
}

std::unique_ptr<Store> open_store(const TempDir& dir) {
  auto opened = Store::open(dir.file("plugauth.db"));
  REQUIRE(opened.ok());
  return std::move(opened.value());
}

std::vector<AuditEvent> all_events(Store& store) {
  AuditQuery q;
  q.limit = 1000;
  auto events = store.audit_events(q);
  std::reverse(events.begin(), events.end());  // oldest first
  return events;
}

}  // namespace

TEST_CASE("AuditQueue folds identical events of one second into one row with a count") {
  TempDir dir;
  auto opened = open_store(dir);
  Store& store = *opened;
  AuditQueue queue;

  for (int i = 0; i < 500; ++i) queue.push(refusal(100));
  CHECK(queue.depth() == 1);
  CHECK(queue.coalesced() == 499);

  // Each field on its own makes a different event.
  std::vector<AuditEvent> different(8, refusal(100));
  different[0].at = 101;
  different[1].action = "verify_forbidden";
  different[2].subject = "user-1";
  different[3].client_id = "client-1";
  different[4].key_id = "pak_2";
  different[5].api_path = "/api/other";
  different[6].status = 403;
  different[7].client_ip = "127.0.0.2";
  AuditEvent other_detail = refusal(100);
  other_detail.detail = "token revoked";
  different.push_back(other_detail);
  for (const auto& e : different) queue.push(e);
  for (const auto& e : different) queue.push(e);  // and each repeat folds into its own
  CHECK(queue.depth() == 1 + different.size());
  CHECK(queue.coalesced() == 499 + different.size());

  CHECK(queue.flush(store) == 1 + different.size());
  CHECK(queue.depth() == 0);
  const auto rows = all_events(store);
  REQUIRE(rows.size() == 1 + different.size());
  auto count_of = [&](const AuditEvent& e) {
    int64_t found = 0;
    for (const auto& r : rows)
      if (r.same_event(e)) found += r.count;
    return found;
  };
  CHECK(count_of(refusal(100)) == 500);
  for (size_t i = 0; i < different.size(); ++i) {
    INFO("variant " << i);
    CHECK(count_of(different[i]) == 2);
  }

  // After a flush nothing is waiting: the same event starts a new row.
  queue.push(refusal(100));
  CHECK(queue.flush(store) == 1);
  CHECK(all_events(store).size() == rows.size() + 1);
  CHECK(queue.flush(store) == 0);
}

TEST_CASE("a full AuditQueue makes a new event wait for the next write, and loses none (SPEC 9)") {
  TempDir dir;
  auto opened = open_store(dir);
  AuditQueue queue;
  for (size_t i = 0; i < AuditQueue::kMaxPending; ++i) queue.push(refusal(static_cast<int64_t>(i)));
  CHECK(queue.depth() == AuditQueue::kMaxPending);
  queue.push(refusal(7));  // an identical one is still counted, at once
  CHECK(queue.coalesced() == 1);
  std::atomic<bool> pushed{false};
  std::thread late([&] {
    queue.push(refusal(-1));  // a new distinct event: no room until the write
    pushed = true;
  });
  while (queue.full_waits() == 0) std::this_thread::yield();
  CHECK_FALSE(pushed.load());
  CHECK(queue.flush(*opened) == AuditQueue::kMaxPending);
  late.join();
  CHECK(pushed.load());
  CHECK(queue.flush(*opened) == 1);
  SQLite::Database db(dir.file("plugauth.db"));
  CHECK(db.execAndGet("SELECT COUNT(*) FROM audit_events").getInt64() ==
        static_cast<int64_t>(AuditQueue::kMaxPending) + 1);
  CHECK(db.execAndGet("SELECT SUM(count) FROM audit_events").getInt64() ==
        static_cast<int64_t>(AuditQueue::kMaxPending) + 2);
}

TEST_CASE("a write that fails keeps its batch for the next try, ahead of newer events (SPEC 9)") {
  TempDir dir;
  auto opened = open_store(dir);
  AuditQueue queue;
  queue.push(refusal(100));
  queue.push(refusal(101));
  {
    // The table goes away under the store: its write fails.
    SQLite::Database db(dir.file("plugauth.db"), SQLite::OPEN_READWRITE);
    db.exec("ALTER TABLE audit_events RENAME TO audit_events_aside");
  }
  CHECK_THROWS(queue.flush(*opened));
  CHECK(queue.depth() == 2);
  queue.push(refusal(100));  // folds into the kept one
  queue.push(refusal(102));
  CHECK(queue.depth() == 3);
  {
    SQLite::Database db(dir.file("plugauth.db"), SQLite::OPEN_READWRITE);
    db.exec("ALTER TABLE audit_events_aside RENAME TO audit_events");
  }
  CHECK(queue.flush(*opened) == 3);
  auto events = all_events(*opened);
  REQUIRE(events.size() == 3);
  CHECK(events[0].at == 100);
  CHECK(events[0].count == 2);
  CHECK(events[1].at == 101);
  CHECK(events[2].at == 102);
}

TEST_CASE("AuditQueue loses no event count under concurrent pushes and flushes") {
  TempDir dir;
  auto opened = open_store(dir);
  Store& store = *opened;
  AuditQueue queue;
  constexpr int kThreads = 4, kPerThread = 20000;
  std::atomic<bool> done{false};
  std::thread flusher([&] {
    while (!done.load()) queue.flush(store);
  });
  std::vector<std::thread> pushers;
  for (int t = 0; t < kThreads; ++t)
    pushers.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) queue.push(refusal(i % 2 + t * 10));
    });
  for (auto& p : pushers) p.join();
  done = true;
  flusher.join();
  queue.flush(store);
  SQLite::Database db(dir.file("plugauth.db"), SQLite::OPEN_READONLY);
  CHECK(db.execAndGet("SELECT SUM(count) FROM audit_events").getInt64() == kThreads * kPerThread);
  CHECK(db.execAndGet("SELECT COUNT(*) FROM audit_events").getInt64() ==
        kThreads * kPerThread - static_cast<int64_t>(queue.coalesced()));
}

// The failure throttle (SPEC §8.9, auth/throttle.h), each case named for the
// rule it enforces, with the hostile cases: a parallel burst, a flood of
// made-up addresses and names, IPv6 hosts spread over their /64.
#include <atomic>
#include <chrono>
#include <mutex>
#include <catch2/catch.hpp>
#include <string>
#include <thread>
#include <vector>

#include "auth/passwords.h"
#include "auth/throttle.h"

using namespace plugauth;

namespace {

ThrottleKey account(const std::string& id) { return {"user:" + id, kAccountFailureLimit, false}; }
ThrottleKey address(const std::string& ip) { return {FailureThrottle::address_key(ip), kIpFailureLimit, true}; }

// One wrong guess, start to end; false if it was not let in.
bool fail(FailureThrottle& throttle, const std::vector<ThrottleKey>& keys) {
  if (throttle.admit(keys)) return false;
  throttle.finish(keys, AttemptOutcome::Failed);
  return true;
}

}  // namespace

TEST_CASE("a burst of 40 parallel wrong guesses gets no more than 10 (check and count are one step)") {
  ManualClock clock{1'800'000'000};
  FailureThrottle throttle{clock};
  std::atomic<int> admitted{0};
  std::atomic<int> busy{0};
  std::atomic<int> go{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 40; ++i) {
    threads.emplace_back([&, i] {
      while (go.load() == 0) std::this_thread::yield();
      // Each from its own address: only the account's budget can stop them.
      const std::vector<ThrottleKey> keys{account("alice"), address("192.0.2." + std::to_string(i))};
      auto refusal = throttle.admit(keys);
      if (refusal) {
        if (refusal->busy) busy.fetch_add(1);
        return;
      }
      admitted.fetch_add(1);
      std::this_thread::sleep_for(std::chrono::milliseconds(2));  // the hash
      throttle.finish(keys, AttemptOutcome::Failed);
    });
  }
  go.store(1);
  for (auto& t : threads) t.join();
  CHECK(admitted.load() == kAccountFailureLimit);
  CHECK(throttle.blocked(account("alice")).has_value());
  CHECK_FALSE(throttle.admit({account("alice")}).value_or(ThrottleRefusal{0, true}).busy);
}

TEST_CASE("attempts past the limit while others are in flight are told busy, and counted as nothing") {
  ManualClock clock{1'800'000'000};
  FailureThrottle throttle{clock};
  const std::vector<ThrottleKey> keys{account("alice")};
  for (int i = 0; i < kAccountFailureLimit; ++i) REQUIRE_FALSE(throttle.admit(keys));
  auto refusal = throttle.admit(keys);
  REQUIRE(refusal.has_value());
  CHECK(refusal->busy);
  // All ten succeed (one user, ten tabs): no failure, no wait, room again.
  for (int i = 0; i < kAccountFailureLimit; ++i) throttle.finish(keys, AttemptOutcome::Succeeded);
  CHECK_FALSE(throttle.blocked(account("alice")).has_value());
  CHECK(throttle.tracked_identities() == 0);
  CHECK_FALSE(throttle.admit(keys).has_value());
  throttle.finish(keys, AttemptOutcome::NotTried);
  CHECK(throttle.tracked_identities() == 0);
}

TEST_CASE("an attempt that ends without saying how counts as a failure (fail closed)") {
  ManualClock clock{1'800'000'000};
  FailureThrottle throttle{clock};
  for (int i = 0; i < kAccountFailureLimit; ++i) {
    REQUIRE_FALSE(throttle.admit({account("alice")}));
    ThrottleAttempt attempt(throttle, {account("alice")});  // an early return: the destructor counts it
  }
  auto refusal = throttle.admit({account("alice")});
  REQUIRE(refusal.has_value());
  CHECK_FALSE(refusal->busy);
  CHECK(refusal->seconds == FailureThrottle::kBaseWaitSeconds);
}

TEST_CASE("a quick check run under the lock is exact with any number of parallel callers, and never busy") {
  // 40 parallel wrong secrets: exactly 10 are checked. 40 parallel right
  // ones (a busy client): all 40 are checked, none is refused.
  for (const bool right : {false, true}) {
    ManualClock clock{1'800'000'000};
    FailureThrottle throttle{clock};
    std::atomic<int> checked{0}, succeeded{0}, busy{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 40; ++i)
      threads.emplace_back([&] {
        bool ok = false;
        auto refusal = throttle.attempt({account("client-1")}, [&] { return right; }, &ok);
        if (refusal) {
          if (refusal->busy) busy.fetch_add(1);
          return;
        }
        checked.fetch_add(1);
        if (ok) succeeded.fetch_add(1);
      });
    for (auto& t : threads) t.join();
    CHECK(busy.load() == 0);
    CHECK(checked.load() == (right ? 40 : kAccountFailureLimit));
    CHECK(succeeded.load() == (right ? 40 : 0));
  }
}

TEST_CASE("the 11th attempt waits even with the right secret, and the wait doubles") {
  ManualClock clock{1'800'000'000};
  FailureThrottle throttle{clock};
  for (int i = 0; i < kAccountFailureLimit; ++i) REQUIRE(fail(throttle, {account("alice")}));
  auto refusal = throttle.admit({account("alice")});
  REQUIRE(refusal.has_value());
  CHECK_FALSE(refusal->busy);
  CHECK(refusal->seconds == FailureThrottle::kBaseWaitSeconds);
  bool ok = false;
  CHECK(throttle.attempt({account("alice")}, [] { return true; }, &ok).has_value());  // the right secret waits too
  clock.advance(refusal->seconds);
  // The wait served: one attempt at a time, never a burst.
  REQUIRE_FALSE(throttle.admit({account("alice")}));
  auto second = throttle.admit({account("alice")});
  REQUIRE(second.has_value());
  CHECK(second->busy);
  throttle.finish({account("alice")}, AttemptOutcome::Failed);  // one more failure
  refusal = throttle.admit({account("alice")});
  REQUIRE(refusal.has_value());
  CHECK(refusal->seconds == 2 * FailureThrottle::kBaseWaitSeconds);
}

TEST_CASE("a success ends the account's run, and successes from one address never add up to a block") {
  ManualClock clock{1'800'000'000};
  FailureThrottle throttle{clock};
  for (int i = 0; i < kAccountFailureLimit - 1; ++i) REQUIRE(fail(throttle, {account("alice")}));
  const std::vector<ThrottleKey> keys{account("alice"), address("192.0.2.1")};
  REQUIRE_FALSE(throttle.admit(keys));
  throttle.finish(keys, AttemptOutcome::Succeeded);
  CHECK_FALSE(throttle.blocked(account("alice")).has_value());
  CHECK(throttle.tracked_identities() == 0);
  for (int i = 0; i < 3 * kIpFailureLimit; ++i) {
    REQUIRE_FALSE(throttle.admit({address("192.0.2.1")}));
    throttle.finish({address("192.0.2.1")}, AttemptOutcome::Succeeded);
  }
  CHECK_FALSE(throttle.blocked(address("192.0.2.1")).has_value());
  CHECK(throttle.tracked_addresses() == 0);
}

TEST_CASE("a flood of 200,000 failures from made-up addresses never lifts a real account's lockout") {
  ManualClock clock{1'800'000'000};
  FailureThrottle throttle{clock};
  for (int i = 0; i < kAccountFailureLimit; ++i) REQUIRE(fail(throttle, {account("alice"), address("192.0.2.7")}));
  REQUIRE(throttle.blocked(account("alice")).has_value());
  // Made-up names: no account key, only ever-new addresses.
  for (int i = 0; i < 200000; ++i)
    fail(throttle, {address("10." + std::to_string(i >> 16) + "." + std::to_string((i >> 8) & 255) + "." +
                            std::to_string(i & 255))});
  CHECK(throttle.blocked(account("alice")).has_value());
  CHECK(throttle.tracked_addresses() <= FailureThrottle::kMaxAddresses);
  CHECK(throttle.tracked_identities() == 1);
}

TEST_CASE("a full address table evicts the oldest window that blocks nobody, never a blocking one") {
  ManualClock clock{1'800'000'000};
  FailureThrottle throttle{clock, 10, 10};
  for (int i = 0; i < kIpFailureLimit; ++i) fail(throttle, {address("198.51.100.1")});
  REQUIRE(throttle.blocked(address("198.51.100.1")).has_value());
  // An attempt in flight is not evicted either: its failure must land.
  REQUIRE_FALSE(throttle.admit({address("198.51.100.2")}));
  for (int i = 0; i < 1000; ++i) fail(throttle, {address("10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256))});
  CHECK(throttle.tracked_addresses() <= 10);
  CHECK(throttle.blocked(address("198.51.100.1")).has_value());
  throttle.finish({address("198.51.100.2")}, AttemptOutcome::Failed);
  for (int i = 1; i < kIpFailureLimit; ++i) fail(throttle, {address("198.51.100.2")});
  CHECK(throttle.blocked(address("198.51.100.2")).has_value());
}

TEST_CASE("a table full of blocking windows tracks no new address, and still keeps every block") {
  ManualClock clock{1'800'000'000};
  FailureThrottle throttle{clock, 3, 3};
  for (const char* ip : {"198.51.100.1", "198.51.100.2", "198.51.100.3"})
    for (int i = 0; i < kIpFailureLimit; ++i) fail(throttle, {address(ip)});
  CHECK(fail(throttle, {address("203.0.113.5")}));
  CHECK(throttle.tracked_addresses() == 3);
  for (const char* ip : {"198.51.100.1", "198.51.100.2", "198.51.100.3"}) CHECK(throttle.blocked(address(ip)));
}

TEST_CASE("addresses in one IPv6 /64 share one window: a host cannot rotate through its /64") {
  CHECK(FailureThrottle::address_key("2001:db8:1:2::1") == FailureThrottle::address_key("2001:db8:1:2:ffff:ee:dd:cc"));
  CHECK(FailureThrottle::address_key("2001:db8:1:2::1") == "ip6:2001:db8:1:2::/64");
  CHECK(FailureThrottle::address_key("2001:db8:1:2::1") != FailureThrottle::address_key("2001:db8:1:3::1"));
  ManualClock clock{1'800'000'000};
  FailureThrottle throttle{clock};
  for (int i = 0; i < kIpFailureLimit; ++i) fail(throttle, {address("2001:db8:1:2::" + std::to_string(i + 1))});
  CHECK(throttle.blocked(address("2001:db8:1:2:abcd::1")).has_value());
  CHECK_FALSE(throttle.blocked(address("2001:db8:1:3::1")).has_value());
}

TEST_CASE("an IPv4 address is one key however it is written, IPv4-mapped IPv6 included") {
  CHECK(FailureThrottle::address_key("192.0.2.1") == "ip:192.0.2.1");
  CHECK(FailureThrottle::address_key("::ffff:192.0.2.1") == "ip:192.0.2.1");
  CHECK(FailureThrottle::address_key("not an address") == "ip:not an address");
  CHECK(FailureThrottle::address_key("") == "ip:");
}

TEST_CASE("user unlock forgets the account's failures that began before it") {
  ManualClock clock{1'800'000'000};
  FailureThrottle throttle{clock};
  for (int i = 0; i < kAccountFailureLimit; ++i) fail(throttle, {account("u1")});
  REQUIRE(throttle.blocked(account("u1")));
  throttle.forget_failures_before("user:u1", clock.now());
  CHECK_FALSE(throttle.blocked(account("u1")));
}

TEST_CASE("registrations: 20 an hour per address, its /64 for IPv6, and a flood of others never lifts it") {
  ManualClock clock{1'800'000'000};
  FailureThrottle throttle{clock, 1000, 10};
  const auto key = [](const std::string& ip) { return FailureThrottle::registration_key(ip); };
  for (int i = 0; i < 20; ++i) {
    REQUIRE_FALSE(throttle.count({key("2001:db8:5:6::" + std::to_string(i + 1))}));
    clock.advance(60);
  }
  auto refusal = throttle.count({key("2001:db8:5:6:ffff::9")});
  REQUIRE(refusal.has_value());
  CHECK_FALSE(refusal->busy);
  CHECK(refusal->seconds == 3600 - 20 * 60);  // an hour from the first
  CHECK_FALSE(throttle.count({key("2001:db8:5:7::1")}).has_value());  // another /64
  // The sign-in budget of the same address is its own.
  CHECK_FALSE(throttle.blocked(address("2001:db8:5:6::1")).has_value());
  for (int i = 0; i < 100000; ++i)
    (void)throttle.count({key("10." + std::to_string(i >> 16) + "." + std::to_string((i >> 8) & 255) + "." +
                              std::to_string(i & 255))});
  CHECK(throttle.count({key("2001:db8:5:6::1")}).has_value());
  CHECK(throttle.tracked_addresses() <= 1000);
  clock.advance(3600);
  CHECK_FALSE(throttle.count({key("2001:db8:5:6::1")}).has_value());
}

// --- SPEC §8.9: a few password hashes at once (auth/passwords.h) --------------


TEST_CASE("at most the gate's slots hash at once, the queue waits, and past the queue the answer is no at once") {
  PasswordGate gate(2, 3);
  std::atomic<int> inside{0}, most{0}, refused{0}, done{0};
  std::mutex hold;
  std::unique_lock held(hold);  // the hashes "run" until this is released
  std::vector<std::thread> threads;
  for (int i = 0; i < 10; ++i) {
    threads.emplace_back([&] {
      if (!gate.enter()) {
        refused.fetch_add(1);
        return;
      }
      const int now_inside = inside.fetch_add(1) + 1;
      int seen = most.load();
      while (now_inside > seen && !most.compare_exchange_weak(seen, now_inside)) {
      }
      { std::lock_guard wait_for_release(hold); }
      inside.fetch_sub(1);
      gate.leave();
      done.fetch_add(1);
    });
  }
  // 2 running, 3 waiting, 5 refused at once, while nothing has finished.
  for (int spin = 0; spin < 2000 && refused.load() < 5; ++spin) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  CHECK(refused.load() == 5);
  CHECK(gate.running() == 2);
  CHECK(gate.waiting() == 3);
  held.unlock();
  for (auto& t : threads) t.join();
  CHECK(done.load() == 5);
  CHECK(most.load() == 2);
  CHECK(gate.running() == 0);
}

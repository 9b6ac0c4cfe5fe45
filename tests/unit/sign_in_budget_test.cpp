// One budget for wrong authenticator codes, and the lock after 100 of them
// (SPEC §8.9, NIST SP 800-63B §5.2.2): check_login, which sign-in and
// /account's forms both go through, against a real SQLite store, with an
// injected clock moved past every wait instead of sleeping.
#include <sodium.h>

#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "auth/login.h"
#include "auth/totp.h"
#include "auth/two_step.h"
#include "store/audit_queue.h"
#include "temp_dir.h"

using namespace plugauth;
using plugauth::testing::TempDir;

namespace {

constexpr const char* kPassword = "correct horse battery staple";
constexpr const char* kAddress = "192.0.2.10";

// argon2id at libsodium's minimum cost: verify_password reads the cost from
// the hash, so the test checks real hashes without spending 64 MiB each.
std::string cheap_hash(const std::string& password) {
  char out[crypto_pwhash_STRBYTES];
  REQUIRE(crypto_pwhash_str(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_MIN,
                            crypto_pwhash_MEMLIMIT_MIN) == 0);
  return out;
}

std::unique_ptr<store::Store> open_store(const TempDir& dir) {
  auto opened = store::Store::open(dir.file("plugauth.db"));
  REQUIRE(opened.ok());
  return std::move(opened.value());
}

Config test_config() {
  Config c;
  c.issuer = "http://127.0.0.1:7070";
  c.resources.push_back(ResourceConfig{});
  c.resources.back().uri = c.issuer;
  return c;
}

// The daemon's sign-in world, with alice (two-step on) in it.
struct World {
  TempDir dir;
  ManualClock clock{1'800'000'000};
  SystemRandom random;
  std::unique_ptr<store::Store> store = open_store(dir);
  SecretKey master{random.bytes(SecretKey::kSize)};
  CryptoKeys crypto{master};
  Config config = test_config();
  SigningKeys signing_keys{*store, crypto, random, clock, SigningKeyPolicy{}};
  Verifier verifier{*store, crypto, clock, config, signing_keys};
  FailureThrottle throttle{clock};
  store::AuditQueue audit;
  OAuthContext ctx{config, *store, crypto, signing_keys, clock, random, verifier, throttle, audit, {}};
  std::string secret = random.bytes(totp::kSecretBytes);

  World() {
    REQUIRE(crypto_init());
    store::UserRecord alice;
    alice.id = "u-alice";
    alice.name = "alice";
    alice.password_hash = cheap_hash(kPassword);
    alice.roles = {"user"};
    REQUIRE(store->create_user(alice, clock.now()));
    REQUIRE(store->set_user_totp(alice.id, seal_totp_secret(crypto, random, alice.id, secret), clock.now()));
  }

  store::UserRecord alice() { return *store->find_user_by_name("alice"); }
  std::string right_code() const { return totp::hotp(secret, static_cast<uint64_t>(clock.now() / totp::kStepSeconds)); }
  // Six digits that are none of the codes accepted now (steps -1, 0, +1).
  std::string wrong_code() const {
    const uint64_t step = static_cast<uint64_t>(clock.now() / totp::kStepSeconds);
    for (int n = 0;; ++n) {
      char candidate[8];
      std::snprintf(candidate, sizeof candidate, "%06d", (n * 7919) % 1000000);
      if (candidate != totp::hotp(secret, step - 1) && candidate != totp::hotp(secret, step) &&
          candidate != totp::hotp(secret, step + 1))
        return candidate;
    }
  }
  // Past every throttle wait (at most a day) and into a new TOTP step.
  void wait_out_throttle() { clock.advance(FailureThrottle::kMaxWaitSeconds + 1); }

  int login_status(const std::string& password, const std::string& code, const std::string& address = kAddress,
                   const std::string& path = "/authorize", const std::string& name = "alice") {
    auto r = check_login(ctx, name, password, code, address, path);
    return r.ok() ? 200 : r.error().status;
  }
  int audit_count(const std::string& action) {
    audit.flush(*store);
    store::AuditQuery q;
    q.action = action;
    return static_cast<int>(store->audit_events(q).size());
  }
};

}  // namespace

TEST_CASE("wrong codes at /account and at sign-in count in one per-account budget: 8 plus 8 get a 429 (SPEC 8.9)") {
  World w;
  // Each from its own address, so only the per-account budget can stop them.
  for (int i = 0; i < 8; ++i)
    CHECK(w.login_status(kPassword, w.wrong_code(), "192.0.2." + std::to_string(100 + i), "/account") == 401);
  int statuses_401 = 0;
  int statuses_429 = 0;
  for (int i = 0; i < 8; ++i) {
    const int status = w.login_status(kPassword, w.wrong_code(), "198.51.100." + std::to_string(i));
    statuses_401 += status == 401;
    statuses_429 += status == 429;
  }
  CHECK(statuses_401 == 2);  // kAccountFailureLimit is 10
  CHECK(statuses_429 == 6);
  // Even the right password and code wait now; /account sees the same wait.
  CHECK(w.login_status(kPassword, w.right_code(), "203.0.113.1") == 429);
  CHECK(w.login_status(kPassword, w.right_code(), "203.0.113.2", "/account") == 429);
}

TEST_CASE("wrong codes at sign-in stop /account's code form too (one budget, both directions)") {
  World w;
  for (int i = 0; i < kAccountFailureLimit; ++i) CHECK(w.login_status(kPassword, w.wrong_code()) == 401);
  CHECK(w.login_status(kPassword, w.right_code(), "203.0.113.9", "/account") == 429);
}

TEST_CASE("wrong codes at /account count in the address's budget too") {
  World w;
  // Spread over many accounts, so no per-account budget runs out first.
  for (int i = 0; i < kIpFailureLimit; ++i) {
    store::UserRecord someone;
    someone.id = "u-" + std::to_string(i);
    someone.name = "user" + std::to_string(i);
    someone.password_hash = cheap_hash(kPassword);
    someone.roles = {"user"};
    REQUIRE(w.store->create_user(someone, w.clock.now()));
    REQUIRE(w.store->set_user_totp(someone.id, seal_totp_secret(w.crypto, w.random, someone.id, w.secret),
                                   w.clock.now()));
    CHECK(w.login_status(kPassword, w.wrong_code(), kAddress, "/account", someone.name) == 401);
  }
  CHECK(w.login_status(kPassword, w.right_code(), kAddress) == 429);
  CHECK(w.login_status(kPassword, w.right_code(), "203.0.113.1") == 200);
}

TEST_CASE("100 consecutive wrong codes with the right password lock sign-in until user unlock (NIST SP 800-63B 5.2.2)") {
  World w;
  for (int i = 0; i < kWrongCodeLockLimit; ++i) {
    w.wait_out_throttle();
    REQUIRE(w.login_status(kPassword, w.wrong_code()) == 401);
  }
  CHECK(w.alice().code_locked_at.has_value());
  CHECK(w.audit_count("account_locked") == 1);
  CHECK(w.throttle.sign_in_locks() == 1);

  // No wait runs out: a day later the right password and code are still refused.
  w.wait_out_throttle();
  auto locked = check_login(w.ctx, "alice", kPassword, w.right_code(), kAddress, "/authorize");
  REQUIRE_FALSE(locked.ok());
  CHECK(locked.error().status == 429);
  CHECK(locked.error().retry_after == 0);
  // A wrong password learns nothing about the lock: the usual answer.
  w.wait_out_throttle();
  CHECK(w.login_status("not the password", w.right_code()) == 401);

  REQUIRE(w.store->unlock_user("alice", w.clock.now()));
  w.wait_out_throttle();
  CHECK(w.login_status(kPassword, w.right_code()) == 200);
  CHECK(w.alice().wrong_codes == 0);
}

TEST_CASE("user passwd lifts the lock after wrong codes") {
  World w;
  for (int i = 0; i < kWrongCodeLockLimit; ++i) {
    w.wait_out_throttle();
    REQUIRE(w.login_status(kPassword, w.wrong_code()) == 401);
  }
  REQUIRE(w.store->set_password("alice", cheap_hash("a new password"), w.clock.now()));
  w.wait_out_throttle();
  CHECK(w.login_status("a new password", w.right_code()) == 200);
}

TEST_CASE("a successful sign-in starts the count of wrong codes again") {
  World w;
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < kWrongCodeLockLimit - 1; ++i) {
      w.wait_out_throttle();
      REQUIRE(w.login_status(kPassword, w.wrong_code()) == 401);
    }
    CHECK(w.alice().wrong_codes == kWrongCodeLockLimit - 1);
    w.wait_out_throttle();
    REQUIRE(w.login_status(kPassword, w.right_code()) == 200);
    CHECK(w.alice().wrong_codes == 0);
  }
  CHECK_FALSE(w.alice().code_locked_at.has_value());
}

TEST_CASE("a stranger without the password can never lock the account") {
  World w;
  for (int i = 0; i < 2 * kWrongCodeLockLimit; ++i) {
    w.wait_out_throttle();
    REQUIRE(w.login_status("guess " + std::to_string(i), w.wrong_code()) == 401);
  }
  CHECK(w.alice().wrong_codes == 0);
  w.wait_out_throttle();
  CHECK(w.login_status(kPassword, w.right_code()) == 200);
}

TEST_CASE("wrong codes at /account with a wrong password never count towards the lock (a copied cookie cannot lock)") {
  World w;
  for (int i = 0; i < 2 * kWrongCodeLockLimit; ++i) {
    w.wait_out_throttle();
    CHECK(w.login_status("guess " + std::to_string(i), w.wrong_code(), kAddress, "/account") == 401);
  }
  CHECK(w.alice().wrong_codes == 0);
  CHECK_FALSE(w.alice().code_locked_at.has_value());
}

// Passwords: argon2id through libsodium's crypto_pwhash_str (SPEC §5).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>

#include "common/result.h"

namespace plugauth {

constexpr size_t kMaxPasswordBytes = 1024;

// The encoded hash ("$argon2id$v=19$m=…"), with libsodium's interactive limits.
Result<std::string> hash_password(std::string_view password);
// Constant time in the password; false for any malformed hash.
bool verify_password(std::string_view password, const std::string& encoded_hash);
// Same cost as a real check, for unknown user names (no timing oracle).
void burn_password_check(std::string_view password);

// SPEC §8.9: at most `slots` password checks (argon2id, 64 MiB each) run at
// once, whether the name exists or not; up to `queue` more wait their turn;
// past that `enter` says no at once and the caller answers 503 with
// Retry-After. So a flood of sign-ins costs at most slots × 64 MiB.
class PasswordGate {
 public:
  PasswordGate(size_t slots, size_t queue) : slots_(slots == 0 ? 1 : slots), queue_(queue) {}
  // True once this thread may hash (then call leave()); false at once when
  // `queue` others are already waiting.
  bool enter();
  void leave();

  size_t running() const;
  size_t waiting() const;

 private:
  const size_t slots_, queue_;
  mutable std::mutex mu_;
  std::condition_variable turn_;
  size_t running_ = 0;  // guarded by mu_
  size_t waiting_ = 0;  // guarded by mu_
};

}  // namespace plugauth

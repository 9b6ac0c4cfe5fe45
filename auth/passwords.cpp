#include "auth/passwords.h"

#include <sodium.h>

namespace plugauth {

Result<std::string> hash_password(std::string_view password) {
  if (password.empty()) return make_error("the password is empty");
  if (password.size() > kMaxPasswordBytes) return make_error("the password is longer than 1024 bytes");
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
    return make_error("out of memory while hashing the password");
  return std::string(out);
}

bool verify_password(std::string_view password, const std::string& encoded_hash) {
  if (password.size() > kMaxPasswordBytes || encoded_hash.size() >= crypto_pwhash_STRBYTES) return false;
  return crypto_pwhash_str_verify(encoded_hash.c_str(), password.data(), password.size()) == 0;
}

void burn_password_check(std::string_view password) {
  static const std::string dummy = [] {
    auto h = hash_password("plugauth-dummy-password");
    return h ? h.value() : std::string();
  }();
  (void)verify_password(password, dummy);
}

bool PasswordGate::enter() {
  std::unique_lock lock(mu_);
  if (running_ < slots_) {
    ++running_;
    return true;
  }
  if (waiting_ >= queue_) return false;
  ++waiting_;
  turn_.wait(lock, [this] { return running_ < slots_; });
  --waiting_;
  ++running_;
  return true;
}

void PasswordGate::leave() {
  {
    std::lock_guard lock(mu_);
    --running_;
  }
  turn_.notify_one();
}

size_t PasswordGate::running() const {
  std::lock_guard lock(mu_);
  return running_;
}

size_t PasswordGate::waiting() const {
  std::lock_guard lock(mu_);
  return waiting_;
}

}  // namespace plugauth

// Browser sessions for /authorize and /account.
//
// A session is an opaque token (type "pax") in an HttpOnly cookie; the
// database keeps only its keyed hash. The forms' anti-forgery rule (which
// cookie a form is bound to, the cookie names) is auth/page_forms.h; this
// class holds its key, derived from the master key, and mints the random
// pre-session cookie (SPEC §8.8).
#pragma once

#include <optional>
#include <string>

#include "auth/crypto.h"
#include "common/clock.h"
#include "store/store.h"

namespace plugauth {

class Sessions {
 public:
  static constexpr int64_t kLifetimeSeconds = 12 * 3600;

  Sessions(store::Store& store, const CryptoKeys& crypto, const Clock& clock, Random& random);

  // A new session for the user; returns the cookie value.
  std::string create(const std::string& user_id);
  // The signed-in user, if the cookie names a live session.
  std::optional<store::UserRecord> resolve(const std::string& cookie) const;
  void destroy(const std::string& cookie);
  // When the session's user last entered the password (SPEC §8.16); nullopt
  // for no live session.
  std::optional<int64_t> password_entered_at(const std::string& cookie) const;
  // The session's user entered the password (and code) again now.
  void password_entered(const std::string& cookie);

  // A fresh value for the pre-session cookie (random, base64url).
  std::string new_pre_session_cookie();
  // The key of the forms' tokens (auth/page_forms.h).
  const SecretKey& form_key() const { return csrf_key_; }

 private:
  std::optional<store::SessionRecord> live(const std::string& cookie) const;

  store::Store& store_;
  const CryptoKeys& crypto_;
  const Clock& clock_;
  Random& random_;
  SecretKey csrf_key_;
};

}  // namespace plugauth

// Browser sessions for /authorize and /account, and CSRF tokens.
//
// A session is an opaque token (type "pax") in an HttpOnly cookie; the
// database keeps only its keyed hash. CSRF uses a signed double-submit
// cookie: a random `plugauth_csrf` cookie, and in every form a MAC of it
// under a key derived from the master key. A cross-site form cannot read the
// cookie, so cannot compute the field (SPEC §8.8).
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
  static constexpr const char* kSessionCookie = "plugauth_session";
  static constexpr const char* kCsrfCookie = "plugauth_csrf";

  Sessions(store::Store& store, const CryptoKeys& crypto, const Clock& clock, Random& random);

  // A new session for the user; returns the cookie value.
  std::string create(const std::string& user_id);
  // The signed-in user, if the cookie names a live session.
  std::optional<store::UserRecord> resolve(const std::string& cookie) const;
  void destroy(const std::string& cookie);

  std::string new_csrf_binding();
  std::string csrf_token(const std::string& binding) const;
  bool csrf_valid(const std::string& binding, const std::string& presented) const;

 private:
  store::Store& store_;
  const CryptoKeys& crypto_;
  const Clock& clock_;
  Random& random_;
  SecretKey csrf_key_;
};

}  // namespace plugauth

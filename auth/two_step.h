// Two-step sign-in for accounts (SPEC §3 /authorize, /account; §4 `user mfa`):
// a TOTP secret per user, sealed under the master key and bound to the user's
// id, so a sealed value copied to another row does not open.
//
// Turning it on from /account is two requests: the page shows a new secret
// and carries it, sealed and dated, in a hidden field; the secret is stored
// only when the user sends back a code their app computed from it.
#pragma once

#include <optional>
#include <string>

#include "auth/crypto.h"
#include "common/clock.h"
#include "store/store.h"

namespace plugauth {

struct TotpSetup {
  std::string secret;          // raw bytes
  std::string secret_base32;   // what a person types into the app
  std::string otpauth_uri;     // what a QR code or a link carries
};

// A fresh secret for `user`. `issuer` is the daemon's issuer URL; its host
// names the account in the app.
TotpSetup new_totp_setup(Random& random, const std::string& issuer, const store::UserRecord& user);

// The otpauth:// link for `secret` (see new_totp_setup).
std::string totp_uri_for(const std::string& issuer, const store::UserRecord& user, const std::string& secret);

// What set_user_totp stores for `secret`.
std::string seal_totp_secret(const CryptoKeys& crypto, Random& random, const std::string& user_id,
                             const std::string& secret);

// Whether `code` is the user's current code and its step was not used
// before; if so the step is recorded, so the same code never works twice.
// False when the user has no two-step secret.
bool check_totp(const CryptoKeys& crypto, store::Store& store, const Clock& clock, const std::string& user_id,
                const std::string& code);

// The hidden-field form of a secret being set up on /account: sealed to the
// user and dated; it opens for kPendingSeconds.
constexpr int64_t kPendingTotpSeconds = 600;
std::string seal_pending_totp(const CryptoKeys& crypto, Random& random, const std::string& user_id,
                              const std::string& secret, int64_t now);
std::optional<std::string> open_pending_totp(const CryptoKeys& crypto, const std::string& user_id,
                                             const std::string& sealed, int64_t now);

}  // namespace plugauth

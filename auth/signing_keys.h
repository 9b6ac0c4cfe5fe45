// The access-token signing keys (SPEC §5): one current key that signs, and
// retired keys that still verify until every token they signed has expired.
// Private halves are sealed at rest under the master key; JWKS publishes the
// public halves of EdDSA keys only (an HS256 secret is never published).
//
// A key's created_at is the moment it starts signing. A rotation publishes
// the next key kPublishLead before that moment (it is "pending" meanwhile)
// and retires the current one then: an offline verifier that cached JWKS
// for up to kJwksMaxAge just before the rotation has refetched it before a
// token with the new kid can exist, so it never meets an unknown kid. Only
// the very first key of an installation signs at once (nothing cached it).
//
// Thread safety: all methods may be called concurrently. Readers see an
// immutable snapshot; reload() swaps in a new one when the database changed
// (e.g. `plugauth signing-key rotate` run while the daemon serves).
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <picojson.h>

#include "auth/crypto.h"
#include "auth/jwt.h"
#include "common/clock.h"
#include "common/result.h"
#include "store/store.h"

namespace plugauth {

// The Cache-Control max-age of /.well-known/jwks.json, and how long before it
// signs a new key is in JWKS (a minute more, for caches that round up).
inline constexpr int64_t kJwksMaxAge = 300;
inline constexpr int64_t kPublishLead = kJwksMaxAge + 60;

struct SigningKeyPolicy {
  JwtAlg alg = JwtAlg::EdDSA;
  int64_t rotation_period = 30 * 86400;  // a current key older than this is replaced
  int64_t access_token_ttl = 900;        // how long a retired key must keep verifying
  int64_t leeway = 60;
};

struct SigningKeyInfo {
  std::string kid;
  std::string alg;
  int64_t created_at = 0;
  std::optional<int64_t> retired_at;
  std::optional<int64_t> expires_at;
  bool current = false;
  bool pending = false;  // published, signs from created_at on
};

class SigningKeys {
 public:
  SigningKeys(store::Store& store, const CryptoKeys& crypto, Random& random, const Clock& clock,
              SigningKeyPolicy policy);

  // serve only (SPEC §4: no other command changes keys). Makes sure a key
  // of the policy's algorithm signs and is younger than the rotation
  // period, else rotates (the new key signs kPublishLead from now; an empty
  // installation's first key signs at once). Nothing happens while a
  // rotation is pending. Returns the kid created, or "" if none was.
  Result<std::string> ensure_current();
  // Rotates whatever the age of the current key: the new key is published
  // now and signs from now + kPublishLead (at once if no key signs now);
  // the current one (and any key still pending) stops signing then.
  // Returns the new kid.
  Result<std::string> rotate();
  // Re-reads keys from the store (and drops expired ones).
  Status reload();

  // The key that signs now: the newest whose created_at has come and that
  // is not retired. Evaluated at each call, so a pending key takes over
  // without a reload.
  std::optional<SigningKey> current_signer() const;
  std::optional<VerificationKey> find(std::string_view kid) const;
  std::vector<SigningKeyInfo> list() const;
  // {"keys":[…]}: public JWKs of every EdDSA key still valid for verifying.
  picojson::value jwks() const;

 private:
  struct Entry {
    SigningKeyInfo info;
    VerificationKey verify;
    SigningKey sign;
  };
  struct Snapshot {
    std::vector<Entry> entries;  // newest created_at first
  };
  // The entry that signs at `now` (see current_signer()), or nullptr.
  static const Entry* signing_entry(const Snapshot& snap, int64_t now);
  Result<std::string> rotate_at(int64_t activate_at);

  Result<std::shared_ptr<const Snapshot>> load_snapshot() const;
  std::shared_ptr<const Snapshot> snapshot() const;

  store::Store& store_;
  const CryptoKeys& crypto_;
  Random& random_;
  const Clock& clock_;
  const SigningKeyPolicy policy_;
  mutable std::mutex mu_;
  std::shared_ptr<const Snapshot> snapshot_;  // guarded by mu_
};

}  // namespace plugauth

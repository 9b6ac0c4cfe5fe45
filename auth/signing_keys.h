// The access-token signing keys (SPEC §5): one current key that signs, and
// retired keys that still verify until every token they signed has expired.
// Private halves are sealed at rest under the master key; JWKS publishes the
// public halves of EdDSA keys only (an HS256 secret is never published).
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
};

class SigningKeys {
 public:
  SigningKeys(store::Store& store, const CryptoKeys& crypto, Random& random, const Clock& clock,
              SigningKeyPolicy policy);

  // Makes sure a current key of the policy's algorithm exists and is younger
  // than the rotation period, rotating if not. Returns the kid created, or
  // an empty string if the current key was kept.
  Result<std::string> ensure_current();
  // Rotates now, whatever the age of the current key. Returns the new kid.
  Result<std::string> rotate();
  // Re-reads keys from the store (and drops expired ones).
  Status reload();

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
    std::vector<Entry> entries;  // newest first; entries[0] current if not retired
  };

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

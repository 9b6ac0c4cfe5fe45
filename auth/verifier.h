// The gateway decision behind /verify and /verify/batch: is this credential
// valid now, whose is it, and does it carry the scopes this request needs?
//
// Hot path. A verified API key or service token is cached in memory, keyed
// by its keyed hash (never the raw key), so a repeat costs one BLAKE2b and a
// map lookup; a forged or mistyped key fails its MAC before any lookup. The
// cache is dropped whenever the database changes (invalidate(), driven by
// PRAGMA data_version), so a revocation or role change made by the CLI while
// the daemon runs takes effect at the next request after it is noticed.
// Nothing here writes to the database: last-use times are collected for a
// background writer (take_key_usage()).
//
// Thread safety: all methods may be called concurrently.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "auth/crypto.h"
#include "auth/scopes.h"
#include "auth/signing_keys.h"
#include "auth/verify_cache.h"
#include "common/clock.h"
#include "config/config.h"
#include "store/store.h"

namespace plugauth {

enum class CredentialType { OAuth, ApiKey, Service, Client };
const char* credential_type_name(CredentialType type);  // "oauth", "api_key", "service", "client"

struct Identity {
  CredentialType type = CredentialType::ApiKey;
  std::string subject;   // user id, "service:<name>" or client_id
  std::string username;  // users only
  std::string client;    // OAuth client, or the service name of a service token
  std::string token_id;  // key_id or jti, never a secret
  ScopeSet scopes;       // what the credential may do now
  std::string scope;     // the same, space-separated
  std::optional<int64_t> expires_at;
};

enum class VerifyResult { Ok, NoCredentials, InvalidToken, InsufficientScope };

struct VerifyOutcome {
  VerifyResult result = VerifyResult::NoCredentials;
  std::string error_description;  // for WWW-Authenticate; safe to send
  ScopeSet required;              // the scopes the request needed
  std::shared_ptr<const Identity> identity;  // set when the token itself was valid
  std::string refused_id;  // a genuine key or token refused (revoked, expired): its id, for the audit
};

class Verifier {
 public:
  Verifier(store::Store& store, const CryptoKeys& crypto, const Clock& clock, const Config& config,
           const SigningKeys& signing_keys);

  // `resource`: the resource being protected; a JWT must name it in `aud`
  // (RFC 8707). Empty: the default (first configured) resource. API keys
  // are not bound to a resource.
  VerifyOutcome verify(std::string_view token, const ScopeSet& required, std::string_view resource = {});

  // Roles and known scopes as of the last invalidate(); cached.
  std::shared_ptr<const ScopePolicy> scope_policy();

  // Drops every cached decision (the database changed).
  void invalidate();

  // key_id → last time seen since the previous call, for the background writer.
  std::vector<std::pair<std::string, int64_t>> take_key_usage();

  uint64_t cache_hits() const { return hits_.load(std::memory_order_relaxed); }
  uint64_t cache_evictions() const { return cache_.evictions(); }
  uint64_t cache_misses() const { return misses_.load(std::memory_order_relaxed); }

 private:
  struct CachedKey {
    bool valid = false;
    std::string reason;  // when !valid
    // When !valid but the credential is genuine (ours, hash or signature
    // checked): its key id or jti, for the audit row of the refusal.
    std::string refused_id;
    std::shared_ptr<const Identity> identity;
    std::vector<std::string> audience;  // JWTs only
    bool is_jwt = false;
    // False for a credential that did not parse as ours (a JWT with a
    // malformed or foreign header, or an unknown kid): never cached.
    bool cacheable = true;
    mutable std::atomic<int64_t> last_touch{0};
  };

  std::shared_ptr<const CachedKey> lookup_key(const ParsedToken& parsed, uint64_t generation, const Bytes& hash);
  std::shared_ptr<const CachedKey> lookup_jwt(std::string_view token, uint64_t generation);
  std::shared_ptr<const ScopePolicy> scope_policy(uint64_t generation);
  void note_use(const CachedKey& entry, int64_t now);

  store::Store& store_;
  const CryptoKeys& crypto_;
  const Clock& clock_;
  const Config& config_;
  const SigningKeys& signing_keys_;

  // Valid credentials, and a smaller share for refusals of well-formed ones
  // (auth/verify_cache.h).
  static constexpr size_t kMaxCachedValid = 50000;
  static constexpr size_t kMaxCachedRefusals = 5000;
  VerifyCache<std::shared_ptr<const CachedKey>> cache_{kMaxCachedValid, kMaxCachedRefusals};
  std::shared_mutex cache_mu_;                 // guards policy_ and generation_
  std::shared_ptr<const ScopePolicy> policy_;  // guarded by cache_mu_
  // Bumped by invalidate(): a decision computed from a read that began
  // before an invalidation is not cached, so it cannot outlive the change.
  uint64_t generation_ = 0;  // guarded by cache_mu_

  std::mutex usage_mu_;
  std::unordered_map<std::string, int64_t> usage_;  // guarded by usage_mu_

  std::atomic<uint64_t> hits_{0};
  std::atomic<uint64_t> misses_{0};
};

}  // namespace plugauth

#include "auth/verifier.h"

#include <algorithm>

#include "auth/jwt.h"

namespace plugauth {
namespace {

ScopeSet configured_scopes(const Config& config) {
  ScopeSet out;
  for (const auto& [name, text] : config.scopes) out.insert(name);
  for (const auto& r : config.resources) out.insert(r.scopes_supported.begin(), r.scopes_supported.end());
  return out;
}

VerifyOutcome invalid(std::string description) {
  VerifyOutcome o;
  o.result = VerifyResult::InvalidToken;
  o.error_description = std::move(description);
  return o;
}

}  // namespace

const char* credential_type_name(CredentialType type) {
  switch (type) {
    case CredentialType::OAuth: return "oauth";
    case CredentialType::ApiKey: return "api_key";
    case CredentialType::Service: return "service";
    case CredentialType::Client: return "client";
  }
  return "unknown";
}

Verifier::Verifier(store::Store& store, const CryptoKeys& crypto, const Clock& clock, const Config& config,
                   const SigningKeys& signing_keys)
    : store_(store), crypto_(crypto), clock_(clock), config_(config), signing_keys_(signing_keys) {}

std::shared_ptr<const ScopePolicy> Verifier::scope_policy() {
  uint64_t generation;
  {
    std::shared_lock lock(cache_mu_);
    generation = generation_;
  }
  return scope_policy(generation);
}

void Verifier::invalidate() {
  std::unique_lock lock(cache_mu_);
  cache_.clear();
  policy_.reset();
  ++generation_;
}

namespace {

// Errors of a JWT that is not a well-formed token of ours: its refusal is
// never cached, so made-up strings cannot fill the cache.
bool is_parse_failure(JwtError e) {
  switch (e) {
    case JwtError::Malformed:
    case JwtError::BadBase64:
    case JwtError::BadJson:
    case JwtError::NotUtf8:
    case JwtError::DuplicateMember:
    case JwtError::AlgNone:
    case JwtError::UnsupportedAlg:
    case JwtError::BadType:
    case JwtError::MissingKid:
    case JwtError::UnknownKid:
    case JwtError::AlgMismatch:
    case JwtError::UnsupportedCrit:
      return true;
    default:
      return false;
  }
}

}  // namespace

std::shared_ptr<const ScopePolicy> Verifier::scope_policy(uint64_t generation) {
  {
    std::shared_lock lock(cache_mu_);
    if (policy_) return policy_;
  }
  std::map<std::string, std::string> roles;
  for (const auto& r : store_.roles()) roles[r.name] = r.scopes;
  ScopeSet known = configured_scopes(config_);
  for (const auto& client_scope : store_.client_scopes()) {
    auto more = parse_scopes(client_scope);
    known.insert(more.begin(), more.end());
  }
  take_offline_access(known);  // never an API scope, whatever a stored client says (SPEC §4)
  auto policy = std::make_shared<const ScopePolicy>(roles, known);
  std::unique_lock lock(cache_mu_);
  if (generation != generation_) return policy;  // stale already: use once, do not keep
  if (!policy_) policy_ = policy;
  return policy_;
}

// Builds the cached decision for a well-formed key from its database row.
std::shared_ptr<const Verifier::CachedKey> Verifier::lookup_key(const ParsedToken& parsed, uint64_t generation,
                                                              const Bytes& hash) {
  auto entry = std::make_shared<CachedKey>();
  auto row = store_.find_api_key(parsed.id);
  // The stored keyed hash must match: the id alone is public.
  if (!row || !constant_time_equal(row->secret_hash, hash)) {
    entry->reason = "unknown key";
    return entry;
  }
  if (row->revoked_at) {
    entry->reason = "key revoked";
    entry->refused_id = row->key_id;
    return entry;
  }
  const bool is_service = row->kind == "service";
  if ((parsed.type == TokenType::ServiceToken) != is_service) {
    entry->reason = "unknown key";
    return entry;
  }
  auto policy = scope_policy(generation);
  auto identity = std::make_shared<Identity>();
  identity->token_id = row->key_id;
  identity->expires_at = row->expires_at;
  if (is_service) {
    identity->type = CredentialType::Service;
    identity->subject = "service:" + row->service;
    identity->client = row->service;
    identity->scopes = row->scope ? parse_scopes(*row->scope) : policy->known();
  } else {
    auto user = store_.find_user_by_id(row->user_id);
    if (!user) {
      entry->reason = "unknown key";
      return entry;
    }
    identity->type = CredentialType::ApiKey;
    identity->subject = user->id;
    identity->username = user->name;
    // SPEC §8.7: never more than the user's roles allow now.
    ScopeSet allowed = policy->allowed_for_roles(user->roles);
    identity->scopes = row->scope ? intersect(parse_scopes(*row->scope), allowed) : allowed;
  }
  identity->scope = join_scopes(identity->scopes);
  entry->valid = true;
  entry->identity = std::move(identity);
  return entry;
}

// A JWT access token: signature (alg pinned by kid), iss and time claims,
// then what the database says of its jti, grant, client and user now.
std::shared_ptr<const Verifier::CachedKey> Verifier::lookup_jwt(std::string_view token, uint64_t generation) {
  auto entry = std::make_shared<CachedKey>();
  entry->is_jwt = true;
  JwtVerifyOptions options;
  options.issuer = config_.issuer;
  options.now = clock_.now();
  auto claims = verify_access_token(
      token, [this](std::string_view kid) { return signing_keys_.find(kid); }, options);
  if (!claims) {
    entry->reason = describe(claims.error());
    entry->cacheable = !is_parse_failure(claims.error());
    return entry;
  }
  auto state = store_.access_token_state(claims->jti);
  if (!state) {
    entry->reason = "unknown token";
    return entry;
  }
  if (state->revoked) {
    entry->reason = "token revoked";
    entry->refused_id = claims->jti;
    return entry;
  }
  if (!state->client_exists || state->client_id != claims->client_id) {
    entry->reason = "the client no longer exists";
    return entry;
  }
  auto policy = scope_policy(generation);
  ScopeSet scopes = parse_scopes(claims->scope);
  // SPEC §8.7: a scope taken from the client or the user is gone now.
  scopes = intersect(scopes, state->client_scope ? parse_scopes(*state->client_scope) : policy->known());
  auto identity = std::make_shared<Identity>();
  identity->subject = claims->sub;
  identity->client = claims->client_id;
  identity->token_id = claims->jti;
  identity->expires_at = claims->exp;
  if (state->user_id.empty()) {
    // SPEC §8.14: a token without a user stands only while its client is an
    // operator's client_credentials client with an explicit scope (the same
    // rule the grant enforces), so no other client's user-less token passes.
    const bool may_act_for_itself = state->client_registration == "cli" &&
                                    parse_scopes(state->client_grant_types).count("client_credentials") != 0 &&
                                    state->client_scope && !parse_scopes(*state->client_scope).empty();
    if (!may_act_for_itself) {
      entry->reason = "the client may not hold a token without a user";
      return entry;
    }
    identity->type = CredentialType::Client;
  } else {
    auto user = store_.find_user_by_id(state->user_id);
    if (!user) {
      entry->reason = "the user no longer exists";
      return entry;
    }
    identity->type = CredentialType::OAuth;
    identity->username = user->name;
    scopes = intersect(scopes, policy->allowed_for_roles(user->roles));
  }
  identity->scopes = std::move(scopes);
  identity->scope = join_scopes(identity->scopes);
  entry->audience = claims->aud;
  entry->valid = true;
  entry->identity = std::move(identity);
  return entry;
}

void Verifier::note_use(const CachedKey& entry, int64_t now) {
  // At most one bookkeeping write per key per second reaches the shared map.
  if (entry.is_jwt || entry.last_touch.exchange(now, std::memory_order_relaxed) == now) return;
  std::lock_guard lock(usage_mu_);
  usage_[entry.identity->token_id] = now;
}

std::vector<std::pair<std::string, int64_t>> Verifier::take_key_usage() {
  std::unordered_map<std::string, int64_t> taken;
  {
    std::lock_guard lock(usage_mu_);
    taken.swap(usage_);
  }
  return {taken.begin(), taken.end()};
}

VerifyOutcome Verifier::verify(std::string_view token, const ScopeSet& required, std::string_view resource) {
  if (token.size() > 8192) return invalid("token too long");
  const bool is_jwt = std::count(token.begin(), token.end(), '.') == 2;

  // The cache first: a hit is a token that passed every check below before
  // (the keyed hash of the whole token names it), so the common case costs
  // one BLAKE2b and a map lookup, not a base64 decode and a second MAC.
  const Bytes hash = crypto_.hash_secret(token);
  uint64_t generation;
  {
    std::shared_lock lock(cache_mu_);
    generation = generation_;
  }
  std::shared_ptr<const CachedKey> entry = cache_.find(hash);
  if (entry) {
    hits_.fetch_add(1, std::memory_order_relaxed);
  } else {
    std::optional<ParsedToken> parsed;
    if (!is_jwt) {
      // A forged or mistyped key fails its MAC here, before the database.
      parsed = crypto_.parse_token(token);
      if (!parsed || (parsed->type != TokenType::ApiKey && parsed->type != TokenType::ServiceToken))
        return invalid("malformed or forged token");
    }
    misses_.fetch_add(1, std::memory_order_relaxed);
    entry = is_jwt ? lookup_jwt(token, generation) : lookup_key(*parsed, generation, hash);
    if (entry->cacheable) {
      // Under the shared lock: invalidate() (exclusive) cannot run between
      // the generation check and the insert, so nothing stale is kept.
      std::shared_lock lock(cache_mu_);
      if (generation == generation_)
        cache_.insert(hash, entry, entry->valid ? decltype(cache_)::Kind::Valid : decltype(cache_)::Kind::Refusal);
    }
  }

  if (!entry->valid) {
    VerifyOutcome out = invalid(entry->reason);
    out.refused_id = entry->refused_id;
    return out;
  }
  const int64_t now = clock_.now();
  const int64_t leeway = entry->is_jwt ? JwtVerifyOptions{}.leeway : 0;  // as the signature check allowed
  const auto refused = [&entry](std::string why) {
    VerifyOutcome o = invalid(std::move(why));
    o.refused_id = entry->identity->token_id;
    return o;
  };
  if (entry->identity->expires_at && *entry->identity->expires_at + leeway <= now)
    return refused(entry->is_jwt ? "token expired" : "key expired");
  if (entry->is_jwt) {
    // RFC 8707 / RFC 9068 §4: the token must be meant for this resource.
    std::string_view protected_resource = resource.empty() ? std::string_view(config_.resources.front().uri) : resource;
    if (std::find(entry->audience.begin(), entry->audience.end(), protected_resource) == entry->audience.end())
      return refused("token is for another audience");
  }
  note_use(*entry, now);

  VerifyOutcome o;
  o.identity = entry->identity;
  o.required = required;
  if (!includes_all(entry->identity->scopes, required)) {
    o.result = VerifyResult::InsufficientScope;
    o.error_description = "the key lacks a required scope";
    return o;
  }
  o.result = VerifyResult::Ok;
  return o;
}

}  // namespace plugauth

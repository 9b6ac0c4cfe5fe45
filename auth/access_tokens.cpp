#include "auth/access_tokens.h"

#include <sodium.h>

#include <algorithm>

#include "auth/base64url.h"
#include "auth/jwt.h"

namespace plugauth {

Result<MintedAccessToken, OAuthError> mint_access_token(OAuthContext& ctx, const AccessTokenSubject& s) {
  auto signer = ctx.signing_keys.current_signer();
  if (!signer) return oauth_errors::kServerError;
  const int64_t now = ctx.clock.now();
  AccessTokenClaims claims;
  claims.iss = ctx.config.issuer;
  claims.sub = s.sub;
  claims.aud = {s.audience};
  claims.client_id = s.client_id;
  // SPEC §4: offline_access is never in an access token, whoever asks.
  ScopeSet scope = parse_scopes(s.scope);
  claims.scope = take_offline_access(scope) ? join_scopes(scope) : s.scope;
  claims.jti = base64url_encode(ctx.random.bytes(16));
  claims.iat = now;
  claims.exp = now + ctx.config.access_token_ttl;
  MintedAccessToken out;
  out.jwt = sign_access_token(claims, *signer);
  out.record = store::AccessTokenRecord{claims.jti, s.family_id, s.client_id, s.user_id, now, claims.exp};
  return out;
}

std::string new_family_id(Random& random) { return base64url_encode(random.bytes(16)); }

ScopeSet client_allowed_scopes(const store::ClientRecord& client, const ScopePolicy& policy) {
  return client.scope ? parse_scopes(*client.scope) : policy.known();
}

Result<ScopeSet, OAuthError> grant_scopes(const ScopeSet& requested, const ScopeSet& allowed, const ScopePolicy& policy) {
  if (requested.empty()) return allowed;
  for (const auto& s : requested)
    if (!is_valid_scope_token(s)) return oauth_errors::kInvalidScope.with("malformed scope");
  bool any_known = std::any_of(requested.begin(), requested.end(),
                               [&](const std::string& s) { return policy.known().count(s) != 0; });
  if (!any_known) return oauth_errors::kInvalidScope;
  return intersect(requested, allowed);
}

Result<std::string, OAuthError> resolve_resource(const Config& config, const std::string& requested) {
  if (requested.empty()) return config.resources.front().uri;
  for (const auto& r : config.resources)
    if (r.uri == requested) return r.uri;
  return oauth_errors::kInvalidTarget;
}

bool valid_pkce_challenge(std::string_view challenge) {
  return challenge.size() == 43 && base64url_decode(challenge).has_value();
}

bool pkce_s256_matches(std::string_view verifier, std::string_view challenge) {
  if (verifier.size() < 43 || verifier.size() > 128) return false;
  const bool alphabet_ok = std::all_of(verifier.begin(), verifier.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' || c == '~';
  });
  if (!alphabet_ok) return false;
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(verifier.data()), verifier.size());
  return constant_time_equal(base64url_encode(std::string_view(reinterpret_cast<char*>(digest), sizeof digest)),
                             challenge);
}

}  // namespace plugauth

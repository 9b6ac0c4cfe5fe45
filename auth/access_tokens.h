// Minting access tokens: RFC 9068 JWTs signed with the current signing key,
// recorded by jti so that a grant, a user or a client can be revoked before
// the token expires. Also the scope arithmetic every grant shares.
#pragma once

#include <string>

#include "auth/oauth_context.h"
#include "auth/oauth_error.h"
#include "auth/scopes.h"
#include "common/result.h"

namespace plugauth {

struct MintedAccessToken {
  std::string jwt;
  store::AccessTokenRecord record;
};

struct AccessTokenSubject {
  std::string sub;       // user id, or the client_id for client_credentials
  std::string user_id;   // empty for client_credentials
  std::string client_id;
  std::string family_id;
  std::string audience;  // the resource
  std::string scope;
};

Result<MintedAccessToken, OAuthError> mint_access_token(OAuthContext& ctx, const AccessTokenSubject& subject);

// A fresh grant family id (128 random bits).
std::string new_family_id(Random& random);

// The scopes a client may request: its own list, or every known scope.
ScopeSet client_allowed_scopes(const store::ClientRecord& client, const ScopePolicy& policy);

// SPEC §4: requested scopes beyond what is allowed are narrowed away; a
// request naming only unknown scopes is invalid_scope; no request means
// everything allowed.
Result<ScopeSet, OAuthError> grant_scopes(const ScopeSet& requested, const ScopeSet& allowed, const ScopePolicy& policy);

// RFC 8707: `resource` must be a configured resource (exactly); empty means
// the default (first) resource.
Result<std::string, OAuthError> resolve_resource(const Config& config, const std::string& requested);

// RFC 7636 §4.6: BASE64URL(SHA256(verifier)) == challenge, with the
// verifier's length and alphabet checked.
bool pkce_s256_matches(std::string_view verifier, std::string_view challenge);
bool valid_pkce_challenge(std::string_view challenge);

}  // namespace plugauth

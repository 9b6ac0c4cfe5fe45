// grant_type=authorization_code (RFC 6749 §4.1.3, RFC 7636 §4.6, RFC 8707).
#include "auth/access_tokens.h"
#include "auth/token_endpoint.h"

namespace plugauth {
namespace {

using namespace oauth_errors;

class AuthorizationCodeGrant final : public GrantHandler {
 public:
  std::string grant_type() const override { return "authorization_code"; }

  Result<TokenResponse, OAuthError> handle(const TokenRequest& req, const store::ClientRecord& client,
                                           OAuthContext& ctx) const override {
    const std::string code = param(req, "code");
    if (code.empty()) return kInvalidRequest.with("code is required");
    auto parsed = ctx.crypto.parse_token(code);
    if (!parsed || parsed->type != TokenType::AuthorizationCode) return kInvalidGrant.with("malformed code");
    auto record = ctx.store.find_authorization_code(parsed->id);
    if (!record || !constant_time_equal(record->code_hash, ctx.crypto.hash_secret(code)))
      return kInvalidGrant.with("unknown code");
    const int64_t now = ctx.clock.now();

    // RFC 6749 §4.1.2: a code used twice revokes every token issued from it.
    if (record->used_at) {
      ctx.store.revoke_family(record->family_id, now, "authorization code replayed");
      ctx.verifier.invalidate();
      ctx.audit.push({now, "code_replayed", record->user_id, client.client_id, "", "/token", 400, req.client_ip,
                      "family revoked"});
      return kInvalidGrant.with("code already used; tokens issued from it are revoked");
    }
    if (record->expires_at <= now) return kInvalidGrant.with("code expired");
    if (record->client_id != client.client_id) return kInvalidGrant.with("code was issued to another client");
    if (!record->redirect_uri.empty() && param(req, "redirect_uri") != record->redirect_uri)
      return kInvalidGrant.with("redirect_uri differs from the authorization request");

    // PKCE (RFC 7636 §4.6). Without a challenge a verifier is refused too:
    // that is a downgrade attempt (RFC 9700 §2.1.1).
    const std::string verifier = param(req, "code_verifier");
    if (!record->code_challenge.empty()) {
      if (verifier.empty()) return kInvalidGrant.with("code_verifier is required");
      if (!pkce_s256_matches(verifier, record->code_challenge)) return kInvalidGrant.with("code_verifier does not match");
    } else if (!verifier.empty()) {
      return kInvalidGrant.with("code_verifier sent but the authorization request had no code_challenge");
    }
    if (const std::string resource = param(req, "resource"); !resource.empty() && resource != record->resource)
      return kInvalidTarget.with("resource differs from the authorization request");

    auto user = ctx.store.find_user_by_id(record->user_id);
    if (!user) return kInvalidGrant.with("the user no longer exists");
    auto policy = ctx.verifier.scope_policy();
    // SPEC §8.7: never more than the client and the user are allowed now.
    ScopeSet scope = intersect(intersect(parse_scopes(record->scope), policy->allowed_for_roles(user->roles)),
                               client_allowed_scopes(client, *policy));

    auto access = mint_access_token(ctx, {user->id, user->id, client.client_id, record->family_id, record->resource,
                                          join_scopes(scope)});
    if (!access) return access.error();
    TokenResponse out;
    std::optional<store::RefreshTokenRecord> refresh;
    if (client_has_grant(client, "refresh_token")) {
      auto minted = ctx.crypto.mint_token(TokenType::RefreshToken, ctx.random);
      refresh = store::RefreshTokenRecord{minted.id, minted.hash, record->family_id, record->scope, now,
                                          now + ctx.config.refresh_token_ttl, {}, "", {}, {}};
      out.refresh_token = minted.token;
    }
    // Committed before the response is sent (SPEC §6).
    if (ctx.store.redeem_authorization_code(record->code_id, now, refresh ? &*refresh : nullptr, access->record) ==
        store::CodeRedemption::AlreadyUsed) {
      ctx.verifier.invalidate();
      return kInvalidGrant.with("code already used; tokens issued from it are revoked");
    }
    out.access_token = access->jwt;
    out.expires_in = ctx.config.access_token_ttl;
    out.scope = join_scopes(scope);
    return out;
  }
};

}  // namespace

std::unique_ptr<GrantHandler> make_authorization_code_grant() { return std::make_unique<AuthorizationCodeGrant>(); }

}  // namespace plugauth

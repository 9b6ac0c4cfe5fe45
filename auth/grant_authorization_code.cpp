// grant_type=authorization_code (RFC 6749 §4.1.3, RFC 7636 §4.6, RFC 8707).
#include "auth/grant_authorization_code.h"

#include "auth/access_tokens.h"
#include "auth/clients.h"
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
    const CodeGrantDecision decision =
        check_authorization_code(*record, client, param(req, "redirect_uri"), param(req, "code_verifier"), now);
    if (decision.revoke_grant) {
      ctx.store.revoke_family(record->family_id, now, "authorization code replayed");
      ctx.verifier.invalidate();
      ctx.audit.push({now, "code_replayed", record->user_id, client.client_id, "", "/token", 400, req.client_ip,
                      "family revoked"});
    } else if (decision.refusal && record->used_at) {
      // A used code from elsewhere: logged, nothing revoked (SPEC §8.2).
      ctx.audit.push({now, "code_replay_refused", record->user_id, client.client_id, "", "/token", 400,
                      req.client_ip, decision.refusal->description});
    }
    if (decision.refusal) return *decision.refusal;
    if (const std::string resource = param(req, "resource"); !resource.empty() && resource != record->resource)
      return kInvalidTarget.with("resource differs from the authorization request");

    auto user = ctx.store.find_user_by_id(record->user_id);
    if (!user) return kInvalidGrant.with("the user no longer exists");
    auto policy = ctx.verifier.scope_policy();
    // SPEC §8.7: never more than the client and the user are allowed now.
    ScopeSet granted = parse_scopes(record->scope);
    const bool offline = take_offline_access(granted);
    ScopeSet scope = intersect(intersect(granted, policy->allowed_for_roles(user->roles)),
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
    ScopeSet named = scope;
    if (offline && refresh) named.insert(std::string(kOfflineAccess));
    out.scope = join_scopes(named);
    out.subject = user->id;
    return out;
  }
};

}  // namespace

CodeGrantDecision check_authorization_code(const store::AuthorizationCodeRecord& code,
                                           const store::ClientRecord& client, const std::string& redirect_uri,
                                           const std::string& code_verifier, int64_t now) {
  // Client authentication ran before this (TokenEndpoint::handle). Whoever
  // shows a code not issued to them learns nothing and changes nothing: a
  // public client's id is public, and anyone can register a client.
  if (code.client_id != client.client_id) return {kInvalidGrant.with("code was issued to another client"), false};
  if (!code.redirect_uri.empty() && redirect_uri != code.redirect_uri)
    return {kInvalidGrant.with("redirect_uri differs from the authorization request"), false};
  // PKCE (RFC 7636 §4.6). Without a challenge a verifier is refused too:
  // that is a downgrade attempt (RFC 9700 §2.1.1).
  if (!code.code_challenge.empty()) {
    if (code_verifier.empty()) return {kInvalidGrant.with("code_verifier is required"), false};
    if (!pkce_s256_matches(code_verifier, code.code_challenge))
      return {kInvalidGrant.with("code_verifier does not match"), false};
  } else if (!code_verifier.empty()) {
    return {kInvalidGrant.with("code_verifier sent but the authorization request had no code_challenge"), false};
  }
  // RFC 6749 §4.1.2: a code used twice by its own client revokes every
  // token issued from it — the first use may have been an attacker's.
  if (code.used_at) return {kInvalidGrant.with("code already used; tokens issued from it are revoked"), true};
  // A code ends with the redirect URI it was sent to: an operator who
  // removed that URI (`client update --remove-redirect-uri`, a wrong or
  // someone else's callback) ends the codes already delivered there. A code
  // whose request named no redirect_uri is deleted by that edit instead
  // (Store::update_client): its row does not say where it went.
  if (!code.redirect_uri.empty() && !redirect_uri_allowed(client.redirect_uris, code.redirect_uri))
    return {kInvalidGrant.with("the code's redirect_uri is no longer registered for this client"), false};
  if (code.expires_at <= now) return {kInvalidGrant.with("code expired"), false};
  return {};
}

std::unique_ptr<GrantHandler> make_authorization_code_grant() { return std::make_unique<AuthorizationCodeGrant>(); }

}  // namespace plugauth

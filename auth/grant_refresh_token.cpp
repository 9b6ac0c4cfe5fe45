// grant_type=refresh_token (RFC 6749 §6) with rotation and reuse detection
// (SPEC §8.3, RFC 9700 §4.14.2).
#include <sodium.h>

#include "auth/access_tokens.h"
#include "auth/token_endpoint.h"

namespace plugauth {
namespace {

using namespace oauth_errors;

// A Random whose bytes are fixed by a seed: the successor of a refresh token
// is derived from it, so a client retrying the same rotation gets the very
// same successor back (SPEC §8.3), and no secret has to be kept to make that
// possible (SPEC §5: the database holds only the successor's keyed hash).
// The seed is a keyed BLAKE2b of the presented token under the hashing
// subkey, domain-separated by its "refresh-successor:" prefix from the
// hashes the database stores (those are of whole tokens, which start with
// their type prefix), so neither a database nor a stolen token alone
// yields a successor.
class SeededRandom final : public Random {
 public:
  explicit SeededRandom(const Bytes& seed) : seed_(seed) {}
  void fill(void* buf, size_t len) override {
    unsigned char key[randombytes_SEEDBYTES];
    crypto_generichash(key, sizeof key, reinterpret_cast<const unsigned char*>(seed_.data()), seed_.size(),
                       reinterpret_cast<const unsigned char*>(&calls_), sizeof calls_);
    ++calls_;
    randombytes_buf_deterministic(buf, len, key);
    sodium_memzero(key, sizeof key);
  }

 private:
  Bytes seed_;
  uint64_t calls_ = 0;
};

MintedToken successor_of(const CryptoKeys& crypto, std::string_view token) {
  SeededRandom seeded(crypto.hash_secret(std::string("refresh-successor:").append(token)));
  return crypto.mint_token(TokenType::RefreshToken, seeded);
}

class RefreshTokenGrant final : public GrantHandler {
 public:
  std::string grant_type() const override { return "refresh_token"; }

  Result<TokenResponse, OAuthError> handle(const TokenRequest& req, const store::ClientRecord& client,
                                           OAuthContext& ctx) const override {
    const std::string token = param(req, "refresh_token");
    if (token.empty()) return kInvalidRequest.with("refresh_token is required");
    auto parsed = ctx.crypto.parse_token(token);
    if (!parsed || parsed->type != TokenType::RefreshToken) return kInvalidGrant.with("malformed refresh token");
    auto record = ctx.store.find_refresh_token(parsed->id);
    if (!record || !constant_time_equal(record->token_hash, ctx.crypto.hash_secret(token)))
      return kInvalidGrant.with("unknown refresh token");
    if (record->family.client_id != client.client_id) return kInvalidGrant.with("refresh token of another client");
    const int64_t now = ctx.clock.now();
    if (record->revoked_at || record->family.revoked_at) return kInvalidGrant.with("refresh token revoked");
    if (record->expires_at <= now) return kInvalidGrant.with("refresh token expired");

    // RFC 6749 §6: never more scope, nor another audience, than the grant.
    // offline_access is not an API scope: a client refreshing has the
    // refresh_token grant, so asking for it here widens nothing (a grant from
    // before the client asked, or before plugauth listed it, included). It is
    // named in the answer when the grant has it or the refresh asks, and
    // never put in the access token.
    ScopeSet requested = parse_scopes(param(req, "scope"));
    const bool asked_offline = take_offline_access(requested);
    ScopeSet granted = parse_scopes(record->scope);
    const bool offline = take_offline_access(granted) || asked_offline;
    if (!includes_all(granted, requested)) return kInvalidScope.with("a refresh cannot widen the scope");
    if (const std::string resource = param(req, "resource"); !resource.empty() && resource != record->family.resource)
      return kInvalidTarget.with("a refresh cannot change the resource");

    auto user = ctx.store.find_user_by_id(record->family.user_id);
    if (!user) return kInvalidGrant.with("the user no longer exists");
    auto policy = ctx.verifier.scope_policy();
    ScopeSet scope = intersect(intersect(requested.empty() ? granted : requested,
                                         policy->allowed_for_roles(user->roles)),
                               client_allowed_scopes(client, *policy));
    auto access = mint_access_token(ctx, {user->id, user->id, client.client_id, record->family_id,
                                          record->family.resource, join_scopes(scope)});
    if (!access) return access.error();

    MintedToken successor = successor_of(ctx.crypto, token);
    ScopeSet named = scope;
    if (offline) named.insert(std::string(kOfflineAccess));
    TokenResponse out{access->jwt, ctx.config.access_token_ttl, successor.token, join_scopes(named), user->id};
    if (!record->rotated_at) {
      store::RefreshTokenRecord next{successor.id, successor.hash, record->family_id, record->scope, now,
                                     now + ctx.config.refresh_token_ttl, {}, "", {}, {}};
      if (ctx.store.rotate_refresh_token(record->token_id, now, next, access->record) ==
          store::RefreshRotation::Rotated)
        return out;
      record = ctx.store.find_refresh_token(parsed->id);  // rotated concurrently: decide as a retry
      if (!record || !record->rotated_at) return kInvalidGrant.with("refresh token revoked");
    }

    // Already rotated. SPEC §8.3: a retry of this token gets its own
    // successor back (never a later token: the derivation above yields only
    // that one) while the successor has never been used — the client lost
    // the answer — or, used or not, within refresh_grace of the rotation —
    // the client refreshes from two places at once. Anything else is reuse
    // (RFC 9700 §4.14.2): the whole family is revoked.
    auto current = ctx.store.find_refresh_token(record->successor_id);
    const bool successor_usable = current && record->successor_id == successor.id && !current->revoked_at &&
                                  !current->family.revoked_at && current->expires_at > now;
    const bool successor_unused = current && !current->rotated_at;
    const bool within_grace = now - *record->rotated_at <= ctx.config.refresh_grace;
    const bool retry = successor_usable && (successor_unused || within_grace);
    if (!retry) {
      ctx.store.revoke_family(record->family_id, now, "refresh token reused");
      ctx.verifier.invalidate();
      ctx.audit.push({now, "refresh_reused", user->id, client.client_id, "", "/token", 400, req.client_ip,
                      "family revoked"});
      return kInvalidGrant.with("refresh token already used; its grant is revoked");
    }
    ctx.store.insert_access_token(access->record);
    return out;
  }
};

}  // namespace

std::unique_ptr<GrantHandler> make_refresh_token_grant() { return std::make_unique<RefreshTokenGrant>(); }

}  // namespace plugauth

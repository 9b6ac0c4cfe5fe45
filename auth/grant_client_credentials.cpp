// grant_type=client_credentials (RFC 6749 §4.4): a confidential client acts
// for itself; the token's subject is its client_id and no refresh token is
// issued.
#include "auth/access_tokens.h"
#include "auth/token_endpoint.h"

namespace plugauth {
namespace {

using namespace oauth_errors;

class ClientCredentialsGrant final : public GrantHandler {
 public:
  std::string grant_type() const override { return "client_credentials"; }

  Result<TokenResponse, OAuthError> handle(const TokenRequest& req, const store::ClientRecord& client,
                                           OAuthContext& ctx) const override {
    if (client.is_public) return kUnauthorizedClient.with("public clients cannot use client_credentials");
    auto resource = resolve_resource(ctx.config, param(req, "resource"));
    if (!resource) return resource.error();
    auto policy = ctx.verifier.scope_policy();
    auto scope = grant_scopes(parse_scopes(param(req, "scope")), client_allowed_scopes(client, *policy), *policy);
    if (!scope) return scope.error();
    const int64_t now = ctx.clock.now();
    store::GrantFamily family{new_family_id(ctx.random), client.client_id, "", join_scopes(*scope), *resource, now, {}};
    auto access =
        mint_access_token(ctx, {client.client_id, "", client.client_id, family.family_id, *resource, family.scope});
    if (!access) return access.error();
    ctx.store.insert_family_with_access_token(family, access->record);
    return TokenResponse{access->jwt, ctx.config.access_token_ttl, "", family.scope};
  }
};

}  // namespace

std::unique_ptr<GrantHandler> make_client_credentials_grant() { return std::make_unique<ClientCredentialsGrant>(); }

}  // namespace plugauth

// grant_type=client_credentials (RFC 6749 §4.4): a confidential client acts
// for itself; the token's subject is its client_id and no refresh token is
// issued.
//
// Such a token has no user whose roles would bound it, so SPEC §4 makes the
// grant the operator's to give: only a client created with `client add
// --grant client_credentials` holds it (the token endpoint answers
// unauthorized_client to every other), and only together with an explicit
// scope, which is all its tokens can ever carry. The checks below repeat
// that for clients whose rows say otherwise (SPEC §8.14: fail closed).
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
    if (client.registration != "cli")
      return kUnauthorizedClient.with("a registered client never gets a token without a user");
    const ScopeSet allowed = client.scope ? parse_scopes(*client.scope) : ScopeSet{};
    if (allowed.empty())
      return kUnauthorizedClient.with("client_credentials needs a client with an explicit scope");
    auto resource = resolve_resource(ctx.config, param(req, "resource"));
    if (!resource) return resource.error();
    // Unlike a user's grant, which is narrowed to what is allowed, a request
    // beyond the operator's choice is refused: nobody consents here.
    const ScopeSet requested = parse_scopes(param(req, "scope"));
    for (const auto& s : requested)
      if (!is_valid_scope_token(s)) return kInvalidScope.with("malformed scope");
    if (!includes_all(allowed, requested))
      return kInvalidScope.with("the request names a scope this client was not given");
    const ScopeSet scope = requested.empty() ? allowed : requested;
    const int64_t now = ctx.clock.now();
    store::GrantFamily family{new_family_id(ctx.random), client.client_id, "", join_scopes(scope), *resource, now, {}};
    auto access =
        mint_access_token(ctx, {client.client_id, "", client.client_id, family.family_id, *resource, family.scope});
    if (!access) return access.error();
    ctx.store.insert_family_with_access_token(family, access->record);
    return TokenResponse{access->jwt, ctx.config.access_token_ttl, "", family.scope, client.client_id};
  }
};

}  // namespace

std::unique_ptr<GrantHandler> make_client_credentials_grant() { return std::make_unique<ClientCredentialsGrant>(); }

}  // namespace plugauth

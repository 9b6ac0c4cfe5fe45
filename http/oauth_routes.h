// The OAuth 2 endpoints: /authorize (pages), /token, /revoke, /introspect,
// /.well-known/oauth-authorization-server, and /account.
#pragma once

#include "auth/oauth_context.h"
#include "auth/sessions.h"
#include "auth/token_endpoint.h"

namespace httplib {
class Server;
}

namespace plugauth {

void register_oauth_routes(httplib::Server& server, OAuthContext& ctx, Sessions& sessions,
                           const TokenEndpoint& token_endpoint);
void register_mcp_routes(httplib::Server& server, OAuthContext& ctx);
void register_account_routes(httplib::Server& server, OAuthContext& ctx, Sessions& sessions);

}  // namespace plugauth

// Who may learn what /introspect knows about a token (SPEC §3 `/introspect`,
// RFC 7662 §2.2 and §4), as one predicate beside the grants. The endpoint
// (http/oauth_routes.cpp) looks the token up, then asks this; when the answer
// is no, it says {"active": false}, exactly what it says for a token that
// does not exist, so a caller cannot even learn that a token is live.
//
//   - A resource server, an operator client created with
//     `plugauth client add … --introspect`, may introspect every token.
//   - Any other client learns only about refresh and access tokens issued to
//     itself (RFC 7662 §4: "the authorization server MUST determine whether
//     the token … is one that the protected resource is allowed to
//     introspect"). A client that registered itself a minute ago learns
//     nothing about anybody else's tokens.
//   - API keys and service tokens belong to no client: only a resource
//     server introspects them.
#pragma once

#include <string>

#include "store/store.h"

namespace plugauth {

enum class IntrospectedKind { RefreshToken, AccessToken, ApiKey, ServiceToken };

// The little the permission needs to know about a live token.
struct IntrospectedToken {
  IntrospectedKind kind = IntrospectedKind::ApiKey;
  std::string client_id;  // the client it was issued to (refresh and access tokens)
};

// An operator's resource server: created by the CLI with --introspect, and
// confidential (it authenticates with a secret). The flag on any other kind
// of client counts for nothing.
bool is_resource_server(const store::ClientRecord& client);

bool may_introspect(const store::ClientRecord& caller, const IntrospectedToken& token);

}  // namespace plugauth

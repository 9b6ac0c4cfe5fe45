// RFC 7591 dynamic client registration: policy, metadata validation and the
// registration response. MCP clients register themselves this way.
#pragma once

#include "auth/oauth_error.h"

#include <string>
#include <string_view>

#include <picojson.h>

#include "auth/oauth_context.h"
#include "common/result.h"

namespace plugauth {

struct RegistrationRequest {
  std::string body;           // JSON
  std::string authorization;  // Authorization header (registration: token)
  std::string client_ip;
};

// 201 body on success (RFC 7591 §3.2.1). Enforces the `registration`
// policy, the per-IP rate limit (20 an hour), https-or-loopback redirect
// URIs, and the supported auth methods, grants and application types. The
// body always states token_endpoint_auth_method and never carries an empty
// field.
Result<picojson::object, OAuthError> register_client(const RegistrationRequest& request, OAuthContext& ctx);

// SPEC §3, §8.14: a client that registered itself (RFC 7591) or is a
// metadata document never gets a token without a user, so the only grants it
// may hold are authorization_code and refresh_token. An operator's
// `client add --grant client_credentials` is the only way to the others.
bool is_self_service_grant(std::string_view grant_type);

// A dynamically registered client that goes unused this long expires.
constexpr int64_t kUnusedRegistrationLifetime = 30 * 86400;

}  // namespace plugauth

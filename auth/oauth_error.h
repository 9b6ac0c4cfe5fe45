// One value per RFC 6749 §5.2 / RFC 7009 / RFC 7591 §3.2.2 / RFC 6750 §3.1 /
// RFC 8707 error: the code, the HTTP status the RFC gives it, and a
// description safe to send. Every endpoint's error (/token, /revoke,
// /introspect, /register, /authorize, /verify) is one of these, and its JSON
// is built in one place (oauth_error_json). Internal detail never goes here;
// it is logged.
#pragma once

#include <cstdint>
#include <string>

namespace plugauth {

struct OAuthError {
  std::string error;
  std::string description;
  int status = 400;
  int64_t retry_after = 0;  // seconds, for 429

  OAuthError with(std::string detail) const { return OAuthError{error, std::move(detail), status, retry_after}; }
};

// {"error": …, "error_description": …}
std::string oauth_error_json(const OAuthError& e);

namespace oauth_errors {
inline const OAuthError kInvalidRequest{"invalid_request", "the request is missing a parameter or is malformed", 400};
inline const OAuthError kInvalidClient{"invalid_client", "client authentication failed", 401};
inline const OAuthError kInvalidGrant{"invalid_grant", "the grant is invalid, expired or revoked", 400};
inline const OAuthError kUnauthorizedClient{"unauthorized_client", "the client may not use this grant type", 400};
inline const OAuthError kUnsupportedGrantType{"unsupported_grant_type", "unsupported grant_type", 400};
inline const OAuthError kInvalidScope{"invalid_scope", "none of the requested scopes is known", 400};
inline const OAuthError kInvalidTarget{"invalid_target", "the requested resource is not served here", 400};
inline const OAuthError kAccessDenied{"access_denied", "the user or server denied the request", 403};
inline const OAuthError kUnsupportedResponseType{"unsupported_response_type", "only response_type=code", 400};
inline const OAuthError kUnsupportedTokenType{"unsupported_token_type", "unsupported token type", 400};
inline const OAuthError kTooManyRequests{"slow_down", "too many failed attempts; wait and retry", 429};
inline const OAuthError kServerError{"server_error", "internal error", 500};
// RFC 7591 §3.2.2
inline const OAuthError kInvalidRedirectUri{"invalid_redirect_uri", "a redirect URI is not acceptable", 400};
inline const OAuthError kInvalidClientMetadata{"invalid_client_metadata", "the client metadata is invalid", 400};
// RFC 6750 §3.1 (an initial access token at /register)
inline const OAuthError kInvalidToken{"invalid_token", "the access token is invalid", 401};
}  // namespace oauth_errors

}  // namespace plugauth

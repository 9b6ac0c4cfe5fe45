// The authorization endpoint's decisions (RFC 6749 §4.1.1–§4.1.2, RFC 7636,
// RFC 8707, RFC 9207), independent of HTML and HTTP.
#pragma once

#include <map>
#include <string>

#include "auth/oauth_context.h"
#include "auth/oauth_error.h"
#include "auth/scopes.h"
#include "common/result.h"

namespace plugauth {

struct AuthorizationRequest {
  store::ClientRecord client;
  std::string redirect_uri;  // where to send the browser back
  bool redirect_uri_given = false;
  std::string state;
  ScopeSet requested_scope;  // API scopes: offline_access is taken out
  bool offline_access = false;  // asked for (it is granted if the client has the refresh_token grant)
  std::string code_challenge;
  std::string resource;
  std::map<std::string, std::string> params;  // the validated parameters, echoed in forms
};

// How a bad request is answered: RFC 6749 §4.1.2.1 forbids redirecting when
// the client or the redirect URI is in doubt; then an error page (400).
struct AuthorizeError {
  bool redirect = false;
  OAuthError error;
  std::string redirect_uri;
  std::string state;
};

// A redirect_uri the client did not register is an audit row
// (redirect_uri_refused) naming the client and the URI, from `client_ip`.
Result<AuthorizationRequest, AuthorizeError> validate_authorization_request(
    const std::map<std::string, std::string>& params, OAuthContext& ctx, const std::string& client_ip);

// The scopes a consent grants: requested ∩ client ∩ user (SPEC §4).
ScopeSet scopes_for_consent(const AuthorizationRequest& request, const store::UserRecord& user, OAuthContext& ctx);

// Stores a code (with its new grant family) and returns the URL to send the
// browser to: redirect_uri?code=…&state=…&iss=….
std::string approve_authorization(const AuthorizationRequest& request, const store::UserRecord& user,
                                  const ScopeSet& scope, OAuthContext& ctx);

// redirect_uri?error=…&state=…&iss=…
std::string authorization_error_redirect(const std::string& redirect_uri, const OAuthError& error,
                                         const std::string& state, const std::string& issuer);

}  // namespace plugauth

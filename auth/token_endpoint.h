// POST /token (RFC 6749 §3.2), fosite-style: the endpoint authenticates the
// client, then asks each registered grant handler whether it handles the
// request's grant_type. Adding a grant is one new file and one line in
// make_default_grants().
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "auth/oauth_context.h"
#include "auth/oauth_error.h"
#include "common/result.h"

namespace plugauth {

struct TokenRequest {
  std::map<std::string, std::string> params;  // form or JSON body, flattened
  std::string authorization;                   // Authorization header, if any
  std::string client_ip;
};

// A request parameter, or "" when absent.
std::string param(const TokenRequest& request, const char* name);

struct TokenResponse {
  std::string access_token;
  int64_t expires_in = 0;
  std::string refresh_token;  // empty: none issued
  std::string scope;
  std::string subject;  // the user, or the client itself (client_credentials): for the audit log
};

class GrantHandler {
 public:
  virtual ~GrantHandler() = default;
  virtual std::string grant_type() const = 0;
  // `client` is already authenticated (or a public client identified).
  virtual Result<TokenResponse, OAuthError> handle(const TokenRequest& request, const store::ClientRecord& client,
                                                   OAuthContext& ctx) const = 0;
};

std::unique_ptr<GrantHandler> make_authorization_code_grant();
std::unique_ptr<GrantHandler> make_refresh_token_grant();
std::unique_ptr<GrantHandler> make_client_credentials_grant();

class TokenEndpoint {
 public:
  TokenEndpoint();
  Result<TokenResponse, OAuthError> handle(const TokenRequest& request, OAuthContext& ctx) const;
  std::vector<std::string> grant_types() const;

 private:
  std::vector<std::unique_ptr<GrantHandler>> grants_;
};

// Authenticates the client of a /token, /revoke or /introspect request,
// with failure throttling per client and per IP (SPEC §8.9).
Result<store::ClientRecord, OAuthError> authenticate_request_client(const TokenRequest& request, OAuthContext& ctx,
                                                                    bool allow_public);

bool client_has_grant(const store::ClientRecord& client, const std::string& grant_type);

}  // namespace plugauth

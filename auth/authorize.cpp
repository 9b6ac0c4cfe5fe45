#include "auth/authorize.h"

#include <string_view>

#include "auth/access_tokens.h"
#include "auth/base64url.h"
#include "auth/client_metadata.h"
#include "auth/clients.h"
#include "auth/token_endpoint.h"

namespace plugauth {
namespace {

using namespace oauth_errors;

std::string with_query(const std::string& uri, const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out = uri;
  char sep = uri.find('?') == std::string::npos ? '?' : '&';
  for (const auto& [k, v] : params) {
    if (v.empty() && k != "code") continue;
    out += sep;
    out += k + "=" + url_encode(v);
    sep = '&';
  }
  return out;
}

}  // namespace

std::string authorization_error_redirect(const std::string& redirect_uri, const OAuthError& error,
                                         const std::string& state, const std::string& issuer) {
  return with_query(redirect_uri, {{"error", error.error},
                                   {"error_description", error.description},
                                   {"state", state},
                                   {"iss", issuer}});
}

Result<AuthorizationRequest, AuthorizeError> validate_authorization_request(
    const std::map<std::string, std::string>& params, OAuthContext& ctx, const std::string& client_ip) {
  auto param = [&](const char* name) {
    auto it = params.find(name);
    return it == params.end() ? std::string() : it->second;
  };
  auto page_error = [](const OAuthError& e) { return AuthorizeError{false, e, "", ""}; };

  AuthorizationRequest r;
  const std::string client_id = param("client_id");
  if (client_id.empty()) return page_error(kInvalidRequest.with("client_id is missing"));
  std::optional<store::ClientRecord> client;
  if (is_metadata_document_client_id(client_id)) {
    // Like /register, self-identified clients are for `registration: open`
    // only: `token` and `closed` mean the operator vets every client.
    if (!ctx.fetch_client_metadata || ctx.config.registration != "open")
      return page_error(kInvalidClient.with("client metadata documents are not accepted here (registration is " +
                                            ctx.config.registration + ")"));
    auto resolved = resolve_metadata_document_client(client_id, ctx.fetch_client_metadata, ctx);
    // The message is "could not be fetched" for every outbound failure
    // (SPEC §8.14; the reason is in the log), or what is wrong with a
    // document that was fetched.
    if (!resolved) return page_error(kInvalidClient.with(resolved.error().message));
    client = *resolved;
  } else {
    client = ctx.store.find_client(client_id);
  }
  if (!client || (client->expires_at && *client->expires_at <= ctx.clock.now()))
    return page_error(kInvalidClient.with("unknown client"));
  r.client = *client;

  const std::string redirect_uri = param("redirect_uri");
  if (redirect_uri.empty()) {
    if (client->redirect_uris.size() != 1)
      return page_error(kInvalidRequest.with("redirect_uri is missing and the client has several"));
    r.redirect_uri = client->redirect_uris.front();
  } else {
    if (!redirect_uri_allowed(client->redirect_uris, redirect_uri)) {
      // An operator fixing a client's callbacks needs the URI it really sent
      // (a GPT's callback id changes when the GPT is recreated): it is in
      // the audit row, its first 256 bytes, every byte outside printable
      // ASCII percent-encoded (so the row is always valid UTF-8 for
      // `plugauth audit --json`: attacker review).
      static constexpr char kHex[] = "0123456789ABCDEF";
      std::string shown = "redirect_uri=";
      for (unsigned char c : std::string_view(redirect_uri).substr(0, 256)) {
        if (c > 0x20 && c < 0x7f) {
          shown += static_cast<char>(c);
        } else {
          shown += '%';
          shown += kHex[c >> 4];
          shown += kHex[c & 15];
        }
      }
      ctx.audit.push({ctx.clock.now(), "redirect_uri_refused", "", client->client_id, "", "/authorize", 400,
                      client_ip, std::move(shown)});
      return page_error(kInvalidRequest.with("redirect_uri is not registered for this client"));
    }
    r.redirect_uri = redirect_uri;
    r.redirect_uri_given = true;
  }
  r.state = param("state");
  // From here on the redirect URI is registered: errors go back to an
  // operator's client, and are a page for any other (no open redirector).
  const bool may_redirect = authorize_error_may_redirect(*client);
  auto redirect_error = [&](const OAuthError& e) {
    return AuthorizeError{may_redirect, e, r.redirect_uri, r.state};
  };

  if (param("response_type") != "code") return redirect_error(kUnsupportedResponseType);
  if (!client_has_grant(*client, "authorization_code")) return redirect_error(kUnauthorizedClient);
  r.code_challenge = param("code_challenge");
  const std::string method = param("code_challenge_method");
  if (!r.code_challenge.empty() || !method.empty()) {
    if (method != "S256") return redirect_error(kInvalidRequest.with("code_challenge_method must be S256"));
    if (!valid_pkce_challenge(r.code_challenge)) return redirect_error(kInvalidRequest.with("malformed code_challenge"));
  } else if (client->is_public) {
    return redirect_error(kInvalidRequest.with("public clients must use PKCE (code_challenge with S256)"));
  }
  auto resource = resolve_resource(ctx.config, param("resource"));
  if (!resource) return redirect_error(resource.error());
  r.resource = *resource;

  r.requested_scope = parse_scopes(param("scope"));
  // Asked alone, offline_access is a request that names no API scope.
  r.offline_access = take_offline_access(r.requested_scope);
  auto policy = ctx.verifier.scope_policy();
  auto checked = grant_scopes(r.requested_scope, client_allowed_scopes(*client, *policy), *policy);
  if (!checked) return redirect_error(checked.error());

  for (const char* name : {"response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge",
                           "code_challenge_method", "resource"}) {
    if (auto v = param(name); !v.empty()) r.params[name] = v;
  }
  return r;
}

ScopeSet scopes_for_consent(const AuthorizationRequest& request, const store::UserRecord& user, OAuthContext& ctx) {
  auto policy = ctx.verifier.scope_policy();
  ScopeSet allowed = intersect(client_allowed_scopes(request.client, *policy), policy->allowed_for_roles(user.roles));
  auto granted = grant_scopes(request.requested_scope, allowed, *policy);
  return granted ? *granted : ScopeSet{};
}

std::string approve_authorization(const AuthorizationRequest& request, const store::UserRecord& user,
                                  const ScopeSet& scope, OAuthContext& ctx) {
  const int64_t now = ctx.clock.now();
  auto minted = ctx.crypto.mint_token(TokenType::AuthorizationCode, ctx.random);
  // The grant's scope: the API scopes, and offline_access when it was asked
  // for and the client may refresh (the token endpoint names it, never puts
  // it in an access token).
  ScopeSet granted = scope;
  if (request.offline_access && client_has_grant(request.client, "refresh_token"))
    granted.insert(std::string(kOfflineAccess));
  store::GrantFamily family{new_family_id(ctx.random), request.client.client_id, user.id, join_scopes(granted),
                            request.resource, now, {}};
  store::AuthorizationCodeRecord code{minted.id,
                                      minted.hash,
                                      family.family_id,
                                      request.client.client_id,
                                      user.id,
                                      request.redirect_uri_given ? request.redirect_uri : "",
                                      family.scope,
                                      request.resource,
                                      request.code_challenge,
                                      now,
                                      now + ctx.config.code_ttl,
                                      {}};
  ctx.store.insert_authorization_code(code, family);
  ctx.audit.push({now, "authorization_granted", user.id, request.client.client_id, "", "/authorize", 303, "",
                  "scope=" + family.scope});
  return with_query(request.redirect_uri, {{"code", minted.token}, {"state", request.state}, {"iss", ctx.config.issuer}});
}

}  // namespace plugauth

#include "auth/token_endpoint.h"

#include "auth/clients.h"
#include "auth/registration.h"
#include "auth/scopes.h"

namespace plugauth {

std::string param(const TokenRequest& request, const char* name) {
  auto it = request.params.find(name);
  return it == request.params.end() ? std::string() : it->second;
}

TokenEndpoint::TokenEndpoint() {
  grants_.push_back(make_authorization_code_grant());
  grants_.push_back(make_refresh_token_grant());
  grants_.push_back(make_client_credentials_grant());
}

std::vector<std::string> TokenEndpoint::grant_types() const {
  std::vector<std::string> out;
  for (const auto& g : grants_) out.push_back(g->grant_type());
  return out;
}

bool client_has_grant(const store::ClientRecord& client, const std::string& grant_type) {
  return parse_scopes(client.grant_types).count(grant_type) != 0;
}

Result<store::ClientRecord, OAuthError> authenticate_request_client(const TokenRequest& request, OAuthContext& ctx,
                                                                    bool allow_public) {
  auto presented = presented_client(request.authorization, request.params);
  if (!presented) return presented.error();
  if (!presented->has_value()) return oauth_errors::kInvalidClient.with("client authentication required");
  const PresentedClient& pc = **presented;
  // SPEC §8.9: the client's key only for a client that exists (made-up ids
  // count against the address alone), checked and counted in one step.
  std::optional<store::ClientRecord> found;
  if (!pc.client_id.empty() && pc.client_id.size() <= 512) found = ctx.store.find_client(pc.client_id);
  std::vector<ThrottleKey> keys{{FailureThrottle::address_key(request.client_ip), kIpFailureLimit, true}};
  if (found) keys.push_back({"client:" + found->client_id, kAccountFailureLimit, false});
  // The secret's check is one hash: it runs under the throttle's lock, so the
  // check and the count are one step and parallel requests are not limited.
  Result<store::ClientRecord, OAuthError> client = oauth_errors::kInvalidClient;
  bool ok = false;
  if (auto refusal = ctx.throttle.attempt(
          keys, [&] { return static_cast<bool>(client = authenticate_client(pc, found, ctx.crypto, ctx.clock.now())); },
          &ok)) {
    ctx.audit.push({ctx.clock.now(), "client_auth_throttled", "", found ? found->client_id : "", "", "", 429,
                    request.client_ip, "retry in " + std::to_string(refusal->seconds) + " s"});
    OAuthError e = oauth_errors::kTooManyRequests.with("too many failed client authentications; retry in " +
                                                        std::to_string(refusal->seconds) + " s");
    e.error = "invalid_client";
    e.retry_after = refusal->seconds;
    return e;
  }
  if (!client) {
    ctx.audit.push({ctx.clock.now(), "client_auth_failed", "", found ? found->client_id : "", "", "", 401,
                    request.client_ip, client.error().description});
    return client.error();
  }
  if (client->is_public && !allow_public) return oauth_errors::kInvalidClient.with("a confidential client is required");
  return client;
}

Result<TokenResponse, OAuthError> TokenEndpoint::handle(const TokenRequest& request, OAuthContext& ctx) const {
  auto gt = request.params.find("grant_type");
  if (gt == request.params.end() || gt->second.empty())
    return oauth_errors::kInvalidRequest.with("grant_type is required");
  const GrantHandler* handler = nullptr;
  for (const auto& g : grants_)
    if (g->grant_type() == gt->second) handler = g.get();
  if (handler == nullptr) return oauth_errors::kUnsupportedGrantType;
  auto client = authenticate_request_client(request, ctx, true);
  if (!client) return client.error();
  if (!client_has_grant(*client, handler->grant_type())) return oauth_errors::kUnauthorizedClient;
  auto out = handler->handle(request, *client, ctx);
  // SPEC §9: every token issued, by grant type, and every refusal.
  const std::string grant = "grant=" + handler->grant_type();
  if (out)
    ctx.audit.push({ctx.clock.now(), "token_issued", out->subject, client->client_id, "", "/token", 200,
                    request.client_ip, grant + (out->refresh_token.empty() ? "" : " with a refresh token")});
  else
    ctx.audit.push({ctx.clock.now(), "token_refused", "", client->client_id, "", "/token", out.error().status,
                    request.client_ip, grant + " " + out.error().error + ": " + out.error().description});
  // "Unused registrations expire" (SPEC §3): use keeps a registration alive.
  if (out && client->registration == "dynamic" && client->expires_at) {
    const int64_t now = ctx.clock.now();
    if (*client->expires_at - now < kUnusedRegistrationLifetime - 86400)
      ctx.store.extend_client(client->client_id, now, now + kUnusedRegistrationLifetime);
  }
  return out;
}

}  // namespace plugauth

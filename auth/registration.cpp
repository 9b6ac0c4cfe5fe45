#include "auth/registration.h"

#include "auth/base64url.h"
#include "auth/clients.h"
#include "auth/credentials.h"
#include "auth/scopes.h"
#include "common/escape.h"
#include "common/json.h"

namespace plugauth {
namespace {

OAuthError metadata_error(std::string description) {
  return oauth_errors::kInvalidClientMetadata.with(std::move(description));
}

Result<std::vector<std::string>, OAuthError> string_array(const picojson::object& o, const char* name) {
  std::vector<std::string> out;
  auto it = o.find(name);
  if (it == o.end()) return out;
  if (!it->second.is<picojson::array>()) return metadata_error(std::string(name) + " must be an array of strings");
  for (const auto& v : it->second.get<picojson::array>()) {
    if (!v.is<std::string>()) return metadata_error(std::string(name) + " must be an array of strings");
    out.push_back(v.get<std::string>());
  }
  return out;
}

// RFC 7591 §3: a registration access token check for `registration: token`.
std::optional<OAuthError> check_initial_access_token(const std::string& authorization, OAuthContext& ctx) {
  const OAuthError invalid = oauth_errors::kInvalidToken.with("a valid initial access token is required (Bearer)");
  auto credential = extract_credential(authorization, "");
  if (!credential || credential->malformed) return invalid;
  auto parsed = ctx.crypto.parse_token(credential->token);
  if (!parsed || parsed->type != TokenType::RegistrationToken) return invalid;
  auto row = ctx.store.find_registration_token(parsed->id);
  const int64_t now = ctx.clock.now();
  if (!row || row->revoked_at || (row->expires_at && *row->expires_at <= now) ||
      !constant_time_equal(row->token_hash, ctx.crypto.hash_secret(credential->token)))
    return invalid;
  return std::nullopt;
}

}  // namespace

namespace {
Result<picojson::object, OAuthError> register_checked(const RegistrationRequest& request, OAuthContext& ctx);
}  // namespace

Result<picojson::object, OAuthError> register_client(const RegistrationRequest& request, OAuthContext& ctx) {
  auto out = register_checked(request, ctx);
  // SPEC §9: refused registrations too (the accepted one is audited below,
  // with its client id).
  if (!out)
    ctx.audit.push({ctx.clock.now(), "client_registration_refused", "", "", "", "/register", out.error().status,
                    request.client_ip, out.error().error + ": " + out.error().description});
  return out;
}

namespace {

Result<picojson::object, OAuthError> register_checked(const RegistrationRequest& request, OAuthContext& ctx) {
  const std::string& policy = ctx.config.registration;
  if (policy == "closed") return oauth_errors::kAccessDenied.with("dynamic client registration is closed");
  if (policy == "token") {
    if (auto e = check_initial_access_token(request.authorization, ctx)) return *e;
  }
  const int64_t now = ctx.clock.now();
  // SPEC §8.9: 20 an hour per address, in the throttle's bounded table (IPv6
  // by /64), counted whether or not the registration is accepted.
  if (auto refusal = ctx.throttle.count({FailureThrottle::registration_key(request.client_ip)}))
    return OAuthError{"slow_down", "too many registrations from this address; retry later", 429, refusal->seconds};

  auto body = parse_json_strict(request.body);
  if (!body || !body->is<picojson::object>()) return metadata_error("the body must be a JSON object");
  const auto& m = body->get<picojson::object>();

  auto uris = string_array(m, "redirect_uris");
  if (!uris) return uris.error();
  if (uris->empty() || uris->size() > 10)
    return oauth_errors::kInvalidRedirectUri.with("redirect_uris must list 1 to 10 URIs");
  for (const auto& u : *uris)
    if (!is_acceptable_redirect_uri(u))
      return oauth_errors::kInvalidRedirectUri.with(
          "a redirect URI must be https, or http on a loopback host: plain ASCII, without spaces, control "
          "characters, user info or a fragment");

  std::string method = "client_secret_basic";
  if (auto it = m.find("token_endpoint_auth_method"); it != m.end()) {
    if (!it->second.is<std::string>()) return metadata_error("token_endpoint_auth_method must be a string");
    method = it->second.get<std::string>();
  }
  if (method != "none" && method != "client_secret_basic" && method != "client_secret_post")
    return metadata_error("token_endpoint_auth_method must be none, client_secret_basic or client_secret_post");
  const bool is_public = method == "none";

  auto grants = string_array(m, "grant_types");
  if (!grants) return grants.error();
  if (grants->empty()) *grants = {"authorization_code", "refresh_token"};
  for (const auto& g : *grants)
    if (!is_self_service_grant(g))
      return metadata_error("grant type " + g +
                            " is not available to a registered client (only authorization_code and refresh_token)");
  // OpenID Connect Dynamic Client Registration §2; kept in metadata_json.
  std::string application_type;
  if (auto it = m.find("application_type"); it != m.end()) {
    if (!it->second.is<std::string>()) return metadata_error("application_type must be a string");
    application_type = it->second.get<std::string>();
    if (application_type != "web" && application_type != "native")
      return metadata_error("application_type must be web or native");
  }
  auto response_types = string_array(m, "response_types");
  if (!response_types) return response_types.error();
  for (const auto& r : *response_types)
    if (r != "code") return metadata_error("only the response type \"code\" is supported");

  std::string name = "unnamed client";
  if (auto it = m.find("client_name"); it != m.end()) {
    if (!it->second.is<std::string>()) return metadata_error("client_name must be a string");
    const std::string& given = it->second.get<std::string>();
    if (!is_plain_text(given))
      return metadata_error("client_name contains a control character or a bidirectional override");
    if (!given.empty()) name = std::string(utf8_prefix(given, 128));
  }
  std::optional<std::string> scope;
  if (auto it = m.find("scope"); it != m.end()) {
    if (!it->second.is<std::string>()) return metadata_error("scope must be a string");
    ScopeSet s = parse_scopes(it->second.get<std::string>());
    for (const auto& x : s)
      if (!is_valid_scope_token(x)) return metadata_error("malformed scope");
    // A registration may not invent scopes: only known ones are kept.
    scope = join_scopes(intersect(s, ctx.verifier.scope_policy()->known()));
  }

  store::ClientRecord c;
  c.client_id = "dcr_" + hex_encode(ctx.random.bytes(12));
  c.name = name;
  c.is_public = is_public;
  c.redirect_uris = *uris;
  c.scope = scope;
  c.grant_types = join_scopes(ScopeSet(grants->begin(), grants->end()));
  c.registration = "dynamic";
  c.metadata_json = request.body.substr(0, 8192);
  c.created_at = now;
  c.expires_at = now + kUnusedRegistrationLifetime;
  std::string secret;
  if (!is_public) {
    auto minted = ctx.crypto.mint_token(TokenType::ClientSecret, ctx.random);
    secret = minted.token;
    c.secret_hash = minted.hash;
  }
  if (!ctx.store.insert_client(c)) return oauth_errors::kServerError.with("client id collision");
  ctx.audit.push({now, "client_registered", "", c.client_id, "", "/register", 201, request.client_ip, name});

  picojson::object out;
  out["client_id"] = picojson::value(c.client_id);
  if (!is_public) {
    out["client_secret"] = picojson::value(secret);
    out["client_secret_expires_at"] = picojson::value(0.0);
  }
  out["client_id_issued_at"] = picojson::value(static_cast<double>(now));
  out["client_name"] = picojson::value(name);
  picojson::array ru, gt;
  for (const auto& u : *uris) ru.emplace_back(u);
  for (const auto& g : ScopeSet(grants->begin(), grants->end())) gt.emplace_back(g);
  out["redirect_uris"] = picojson::value(ru);
  out["grant_types"] = picojson::value(gt);
  out["response_types"] = picojson::value(picojson::array{picojson::value("code")});
  out["token_endpoint_auth_method"] = picojson::value(method);
  if (!application_type.empty()) out["application_type"] = picojson::value(application_type);
  if (scope && !scope->empty()) out["scope"] = picojson::value(*scope);
  return out;
}

}  // namespace

bool is_self_service_grant(std::string_view grant_type) {
  return grant_type == "authorization_code" || grant_type == "refresh_token";
}

}  // namespace plugauth

#include "http/oauth_routes.h"

#include <httplib.h>

#include "auth/authorize.h"
#include "auth/clients.h"
#include "auth/introspection.h"
#include "auth/jwt.h"
#include "auth/login.h"
#include "common/json.h"
#include "http/forms.h"
#include "http/oauth_response.h"
#include "http/pages.h"

namespace plugauth {
namespace {

using namespace oauth_errors;
using http::send_oauth_error;

void send_json_no_store(httplib::Response& res, const picojson::object& body) {
  res.status = 200;
  res.set_header("Pragma", "no-cache");
  res.set_content(to_json(picojson::value(body)), "application/json");
}

class OAuthRoutes {
 public:
  OAuthRoutes(OAuthContext& ctx, Sessions& sessions, const TokenEndpoint& endpoint)
      : ctx_(ctx), sessions_(sessions), endpoint_(endpoint), cookie_names_(page_cookie_names(ctx.config.issuer)) {}

  // --- /authorize -----------------------------------------------------------

  void authorize_get(const httplib::Request& req, httplib::Response& res) {
    auto cookies = http::page_cookies_or_refuse(req, res, cookie_names_);
    if (!cookies) return;
    auto params = http::query_params(req);
    if (!params) return http::send_page(res, 400, pages::error_page("Invalid request", params.error().message));
    authorize_page(req, res, *cookies, *params, "");
  }

  void authorize_post(const httplib::Request& req, httplib::Response& res) {
    if (!http::page_cookies_or_refuse(req, res, cookie_names_)) return;
    auto form = http::body_params(req);
    if (!form) return http::send_page(res, 400, pages::error_page("Invalid request", form.error().message));
    auto check = check_form(http::cookie_headers(req), (*form)["csrf"], cookie_names_, sessions_.form_key());
    if (!check.accepted()) return refused_form(req, res, check, *form);
    PageCookies& cookies = check.cookies;
    auto request = validate_authorization_request(*form, ctx_, req.remote_addr);
    if (!request) return authorize_error(res, request.error());
    const std::string action = (*form)["action"];
    if (action == "login") return login(req, res, *request, *form);

    auto user = sessions_.resolve(cookies.session);
    if (!user) return authorize_page(req, res, cookies, request->params, "Your session ended; sign in again.");
    if (action == "deny") {
      res.status = 303;
      res.set_redirect(authorization_error_redirect(request->redirect_uri, kAccessDenied, request->state,
                                                    ctx_.config.issuer),
                       303);
      return;
    }
    if (action != "allow") return http::send_page(res, 400, pages::error_page("Invalid request", "unknown action"));
    std::string location = approve_authorization(*request, *user, scopes_for_consent(*request, *user, ctx_), ctx_);
    http::page_headers(res);
    res.set_redirect(location, 303);
  }

  // --- /token, /revoke, /introspect ----------------------------------------

  void token(const httplib::Request& req, httplib::Response& res) {
    auto params = http::body_params(req);
    if (!params) return send_oauth_error(res, kInvalidRequest.with(params.error().message));
    auto authorization = http::single_field(req, "Authorization");
    if (!authorization) return send_oauth_error(res, kInvalidRequest.with(authorization.error().message));
    TokenRequest tr{*params, *authorization, req.remote_addr};
    auto out = endpoint_.handle(tr, ctx_);
    if (!out) return send_oauth_error(res, out.error());
    picojson::object body;
    body["access_token"] = picojson::value(out->access_token);
    body["token_type"] = picojson::value("bearer");
    body["expires_in"] = picojson::value(static_cast<double>(out->expires_in));
    if (!out->refresh_token.empty()) body["refresh_token"] = picojson::value(out->refresh_token);
    body["scope"] = picojson::value(out->scope);
    send_json_no_store(res, body);
  }

  // RFC 7009: revokes a refresh token (its whole grant) or an access token
  // (and its grant). Answers 200 for unknown tokens too (§2.2).
  void revoke(const httplib::Request& req, httplib::Response& res) {
    auto params = http::body_params(req);
    if (!params) return send_oauth_error(res, kInvalidRequest.with(params.error().message));
    auto authorization = http::single_field(req, "Authorization");
    if (!authorization) return send_oauth_error(res, kInvalidRequest.with(authorization.error().message));
    TokenRequest tr{*params, *authorization, req.remote_addr};
    auto client = authenticate_request_client(tr, ctx_, true);
    if (!client) return send_oauth_error(res, client.error());
    const std::string token = (*params)["token"];
    if (token.empty()) return send_oauth_error(res, kInvalidRequest.with("token is required"));
    const int64_t now = ctx_.clock.now();
    bool revoked = false;
    if (auto parsed = ctx_.crypto.parse_token(token); parsed && parsed->type == TokenType::RefreshToken) {
      auto record = ctx_.store.find_refresh_token(parsed->id);
      if (record && record->family.client_id == client->client_id &&
          constant_time_equal(record->token_hash, ctx_.crypto.hash_secret(token)))
        revoked = ctx_.store.revoke_family(record->family_id, now, "revoked by the client");
    } else if (auto jti = access_token_jti(token); jti) {
      auto state = ctx_.store.access_token_state(*jti);
      if (state && state->client_id == client->client_id) revoked = ctx_.store.revoke_access_token(*jti, now);
    }
    // SPEC §8.13: a revoke that revokes nothing changes nothing; a stranger's
    // revokes of made-up tokens must not empty the verify cache.
    if (revoked) ctx_.verifier.invalidate();
    ctx_.audit.push({now, revoked ? "token_revoked" : "revoke_of_nothing", "", client->client_id, "", "/revoke", 200,
                     req.remote_addr, revoked ? "by the client" : "no token of this client matched"});
    res.status = 200;
    res.set_content("{}", "application/json");
  }

  // RFC 7662, for confidential clients. What a token is, and whose, comes
  // from the lookup; whether this caller may hear it is auth/introspection.h.
  // Everything it may not hear is {"active": false}, word for word the
  // answer for a token that does not exist (RFC 7662 §2.2).
  void introspect(const httplib::Request& req, httplib::Response& res) {
    auto params = http::body_params(req);
    if (!params) return send_oauth_error(res, kInvalidRequest.with(params.error().message));
    auto authorization = http::single_field(req, "Authorization");
    if (!authorization) return send_oauth_error(res, kInvalidRequest.with(authorization.error().message));
    TokenRequest tr{*params, *authorization, req.remote_addr};
    auto client = authenticate_request_client(tr, ctx_, false);
    if (!client) return send_oauth_error(res, client.error());
    const std::string token = (*params)["token"];
    if (token.empty()) return send_oauth_error(res, kInvalidRequest.with("token is required"));
    // SPEC §9: every introspection, by whom and whether the answer was "active".
    const auto answer = [&](const picojson::object& o) {
      const bool active = o.count("active") && o.at("active").evaluate_as_boolean();
      ctx_.audit.push({ctx_.clock.now(), "introspection", "", client->client_id, "", "/introspect", 200,
                       req.remote_addr, active ? "active" : "inactive"});
      send_json_no_store(res, o);
    };
    picojson::object inactive;
    inactive["active"] = picojson::value(false);
    picojson::object out;
    IntrospectedToken about;
    const int64_t now = ctx_.clock.now();
    if (auto parsed = ctx_.crypto.parse_token(token); parsed && parsed->type == TokenType::RefreshToken) {
      auto r = ctx_.store.find_refresh_token(parsed->id);
      if (!r || !constant_time_equal(r->token_hash, ctx_.crypto.hash_secret(token)) || r->revoked_at ||
          r->family.revoked_at || r->rotated_at || r->expires_at <= now)
        return answer(inactive);
      about = {IntrospectedKind::RefreshToken, r->family.client_id};
      if (!may_introspect(*client, about)) return answer(inactive);
      out["active"] = picojson::value(true);
      out["token_type"] = picojson::value("refresh_token");
      out["scope"] = picojson::value(r->scope);
      out["client_id"] = picojson::value(r->family.client_id);
      out["sub"] = picojson::value(r->family.user_id);
      out["exp"] = picojson::value(static_cast<double>(r->expires_at));
      out["iat"] = picojson::value(static_cast<double>(r->created_at));
      if (auto u = ctx_.store.find_user_by_id(r->family.user_id)) out["username"] = picojson::value(u->name);
      return answer(out);
    }
    auto v = ctx_.verifier.verify(token, {}, (*params)["resource"]);
    if (v.result != VerifyResult::Ok) return answer(inactive);
    const Identity& id = *v.identity;
    switch (id.type) {
      case CredentialType::OAuth:
      case CredentialType::Client: about = {IntrospectedKind::AccessToken, id.client}; break;
      case CredentialType::ApiKey: about = {IntrospectedKind::ApiKey, ""}; break;
      case CredentialType::Service: about = {IntrospectedKind::ServiceToken, ""}; break;
    }
    if (!may_introspect(*client, about)) return answer(inactive);
    out["active"] = picojson::value(true);
    out["sub"] = picojson::value(id.subject);
    out["scope"] = picojson::value(id.scope);
    out["type"] = picojson::value(credential_type_name(id.type));
    out["token_type"] = picojson::value(about.kind == IntrospectedKind::AccessToken ? "access_token" : "api_key");
    if (!id.client.empty()) out["client_id"] = picojson::value(id.client);
    if (!id.username.empty()) out["username"] = picojson::value(id.username);
    if (id.expires_at) out["exp"] = picojson::value(static_cast<double>(*id.expires_at));
    out["jti"] = picojson::value(id.token_id);
    out["iss"] = picojson::value(ctx_.config.issuer);
    answer(out);
  }

  void metadata(const httplib::Request&, httplib::Response& res) {
    const std::string& iss = ctx_.config.issuer;
    picojson::object m;
    auto strings = [](const std::vector<std::string>& v) {
      picojson::array a;
      for (const auto& s : v) a.emplace_back(s);
      return picojson::value(a);
    };
    m["issuer"] = picojson::value(iss);
    m["authorization_endpoint"] = picojson::value(iss + "/authorize");
    m["token_endpoint"] = picojson::value(iss + "/token");
    m["jwks_uri"] = picojson::value(iss + "/.well-known/jwks.json");
    m["revocation_endpoint"] = picojson::value(iss + "/revoke");
    m["introspection_endpoint"] = picojson::value(iss + "/introspect");
    auto known = ctx_.verifier.scope_policy()->known();
    known.insert(std::string(kOfflineAccess));  // SPEC §4: MCP clients refresh only when it is listed
    m["scopes_supported"] = strings(std::vector<std::string>(known.begin(), known.end()));
    m["response_types_supported"] = strings({"code"});
    m["response_modes_supported"] = strings({"query"});
    m["grant_types_supported"] = strings(endpoint_.grant_types());
    m["code_challenge_methods_supported"] = strings({"S256"});
    m["token_endpoint_auth_methods_supported"] = strings({"client_secret_basic", "client_secret_post", "none"});
    m["revocation_endpoint_auth_methods_supported"] = strings({"client_secret_basic", "client_secret_post", "none"});
    m["introspection_endpoint_auth_methods_supported"] = strings({"client_secret_basic", "client_secret_post"});
    m["authorization_response_iss_parameter_supported"] = picojson::value(true);
    if (ctx_.config.registration != "closed") m["registration_endpoint"] = picojson::value(iss + "/register");
    m["client_id_metadata_document_supported"] = picojson::value(ctx_.config.registration == "open");
    http::set_cache_control(res, "public, max-age=300");
    res.set_content(to_json(picojson::value(m)), "application/json");
  }

 private:
  std::optional<std::string> access_token_jti(const std::string& token) {
    JwtVerifyOptions options;
    options.issuer = ctx_.config.issuer;
    options.now = ctx_.clock.now();
    auto claims = verify_access_token(
        token, [this](std::string_view kid) { return ctx_.signing_keys.find(kid); }, options);
    if (!claims) return std::nullopt;
    return claims->jti;
  }

  pages::ClientView client_view(const AuthorizationRequest& r) {
    return pages::ClientView{r.client.name, r.client.client_id, uri_host(r.redirect_uri),
                             r.client.registration != "cli"};
  }

  void authorize_error(httplib::Response& res, const AuthorizeError& e) {
    if (!e.redirect)
      return http::send_page(res, 400,
                             pages::error_page("This sign-in link is not valid", e.error.error + ": " + e.error.description));
    http::page_headers(res);
    res.set_redirect(authorization_error_redirect(e.redirect_uri, e.error, e.state, ctx_.config.issuer), 303);
  }

  // A form the anti-forgery rule refused (auth/page_forms.h): 400 for a
  // repeated cookie; else 403 with a fresh form bound to this browser's
  // cookies, never acting on the refused one. A form that does not even
  // carry a valid authorization request gets the plain "form expired" page:
  // no error redirect is ever sent on behalf of a refused form.
  void refused_form(const httplib::Request& req, httplib::Response& res, FormCheck& check,
                    const http::Params& form) {
    if (check.verdict == FormVerdict::RepeatedCookie)
      return http::send_page(res, 400, pages::repeated_cookie_page(check.repeated_name));
    auto request = validate_authorization_request(form, ctx_, req.remote_addr);
    if (!request) return http::send_page(res, 403, pages::form_expired_page());
    authorize_page(req, res, check.cookies, request->params, pages::kFormExpiredMessage, 403);
  }

  // The sign-in form or, for a signed-in user, the consent form.
  void authorize_page(const httplib::Request& req, httplib::Response& res, PageCookies cookies,
                      const http::Params& params, const std::string& message, int status = 200) {
    auto request = validate_authorization_request(params, ctx_, req.remote_addr);
    if (!request) return authorize_error(res, request.error());
    auto hidden = request->params;
    hidden["csrf"] = http::page_form_token(cookies, cookie_names_, sessions_, res);
    auto view = client_view(*request);
    auto user = sessions_.resolve(cookies.session);
    if (!user) return http::send_page(res, status, pages::login_page("/authorize", hidden, &view, message));
    render_consent(res, *request, *user, hidden, message, status);
  }

  void render_consent(httplib::Response& res, const AuthorizationRequest& request, const store::UserRecord& user,
                      const http::Params& hidden, const std::string& message = "", int status = 200) {
    std::vector<std::pair<std::string, std::string>> scopes;
    for (const auto& s : scopes_for_consent(request, user, ctx_)) {
      auto it = ctx_.config.scopes.find(s);
      scopes.emplace_back(s, it == ctx_.config.scopes.end() ? "Use the scope \"" + s + "\"" : it->second);
    }
    const bool stays = request.offline_access && client_has_grant(request.client, "refresh_token");
    http::send_page(res, status,
                    pages::consent_page("/authorize", hidden, client_view(request), user.name, scopes, message,
                                        stays));
  }

  void login(const httplib::Request& req, httplib::Response& res, const AuthorizationRequest& request,
             const http::Params& form) {
    auto hidden = request.params;
    hidden["csrf"] = form.at("csrf");
    auto view = client_view(request);
    auto it = form.find("username");
    const std::string username = it == form.end() ? "" : it->second.substr(0, 64);
    const std::string password = form.count("password") ? form.at("password") : "";
    const std::string code = form.count("totp") ? form.at("totp") : "";
    auto user = check_login(ctx_, username, password, code, req.remote_addr, req.path);
    if (!user) {
      if (user.error().retry_after > 0) res.set_header("Retry-After", std::to_string(user.error().retry_after));
      return http::send_page(res, user.error().status, pages::login_page("/authorize", hidden, &view, user.error().message));
    }
    // From here on the browser's forms are bound to its new session.
    PageCookies signed_in;
    signed_in.session = sessions_.create(user->id);
    res.set_header("Set-Cookie", http::set_cookie(cookie_names_.session, signed_in.session, cookie_names_.secure,
                                                  Sessions::kLifetimeSeconds));
    hidden["csrf"] = form_token(signed_in, sessions_.form_key());
    render_consent(res, request, *user, hidden);
  }

 private:
  OAuthContext& ctx_;
  Sessions& sessions_;
  const TokenEndpoint& endpoint_;
  const PageCookieNames cookie_names_;
};

}  // namespace

void register_oauth_routes(httplib::Server& server, OAuthContext& ctx, Sessions& sessions,
                           const TokenEndpoint& token_endpoint) {
  auto routes = std::make_shared<OAuthRoutes>(ctx, sessions, token_endpoint);
  server.Get("/authorize", [routes](const httplib::Request& q, httplib::Response& r) { routes->authorize_get(q, r); });
  server.Post("/authorize", [routes](const httplib::Request& q, httplib::Response& r) { routes->authorize_post(q, r); });
  server.Post("/token", [routes](const httplib::Request& q, httplib::Response& r) { routes->token(q, r); });
  server.Post("/revoke", [routes](const httplib::Request& q, httplib::Response& r) { routes->revoke(q, r); });
  server.Post("/introspect", [routes](const httplib::Request& q, httplib::Response& r) { routes->introspect(q, r); });
  server.Get("/.well-known/oauth-authorization-server",
             [routes](const httplib::Request& q, httplib::Response& r) { routes->metadata(q, r); });
  server.Get("/assets/plugauth.css", [](const httplib::Request&, httplib::Response& r) {
    http::set_cache_control(r, "public, max-age=3600");
    r.set_content(pages::kStylesheet, "text/css; charset=utf-8");
  });
}

}  // namespace plugauth

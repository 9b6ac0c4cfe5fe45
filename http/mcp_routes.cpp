// What an MCP client needs to connect with no manual setup: RFC 9728
// protected-resource metadata for every configured resource, and RFC 7591
// dynamic client registration.
#include <httplib.h>

#include "auth/gateway_decision.h"
#include "auth/registration.h"
#include "common/json.h"
#include "http/forms.h"
#include "http/oauth_response.h"
#include "http/oauth_routes.h"

namespace plugauth {
namespace {

picojson::value protected_resource_metadata(const Config& config, const ResourceConfig& r, OAuthContext& ctx) {
  picojson::object o;
  o["resource"] = picojson::value(r.uri);
  o["authorization_servers"] = picojson::value(picojson::array{picojson::value(config.issuer)});
  picojson::array scopes;
  if (!r.scopes_supported.empty()) {
    for (const auto& s : r.scopes_supported) scopes.emplace_back(s);
  } else {
    const auto policy = ctx.verifier.scope_policy();  // held: a role change replaces it
    for (const auto& s : policy->known()) scopes.emplace_back(s);
  }
  o["scopes_supported"] = picojson::value(scopes);
  o["bearer_methods_supported"] = picojson::value(picojson::array{picojson::value("header")});
  o["jwks_uri"] = picojson::value(config.issuer + "/.well-known/jwks.json");
  return picojson::value(o);
}

}  // namespace

void register_mcp_routes(httplib::Server& server, OAuthContext& ctx) {
  // RFC 9728 §3.1: the metadata of the resource https://host/path lives at
  // <issuer>/.well-known/oauth-protected-resource/path; the first resource
  // is also served at the bare well-known path.
  server.Get(R"(/\.well-known/oauth-protected-resource(/.*)?)",
             [&ctx](const httplib::Request& req, httplib::Response& res) {
               const std::string suffix = req.matches.size() > 1 ? req.matches[1].str() : "";
               const ResourceConfig* found = nullptr;
               if (suffix.empty()) {
                 found = &ctx.config.resources.front();
               } else {
                 for (const auto& r : ctx.config.resources)
                   if (resource_metadata_suffix(r.uri) == suffix) {
                     found = &r;
                     break;
                   }
               }
               if (found == nullptr) {
                 res.status = 404;
                 res.set_content(R"({"error":"not_found","error_description":"no such protected resource"})",
                                 "application/json");
                 return;
               }
               http::set_cache_control(res, "public, max-age=300");
               res.set_content(to_json(protected_resource_metadata(ctx.config, *found, ctx)), "application/json");
             });

  server.Post("/register", [&ctx](const httplib::Request& req, httplib::Response& res) {
    auto authorization = http::single_field(req, "Authorization");
    if (!authorization)
      return http::send_oauth_error(res, oauth_errors::kInvalidRequest.with(authorization.error().message));
    auto out = register_client({req.body, *authorization, req.remote_addr}, ctx);
    if (!out) {
      const OAuthError& e = out.error();
      // RFC 6750 §3: a bad initial access token is a Bearer challenge.
      http::send_oauth_error(res, e,
                             e.status == 401 ? http::bearer_challenge(ctx.config.issuer, e) : std::string());
      return;
    }
    res.status = 201;
    res.set_content(to_json(picojson::value(*out)), "application/json");
  });
}

}  // namespace plugauth

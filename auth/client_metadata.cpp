#include "auth/client_metadata.h"

#include "auth/clients.h"
#include "auth/registration.h"
#include "auth/scopes.h"
#include "common/escape.h"
#include "common/json.h"

namespace plugauth {

bool is_metadata_document_client_id(const std::string& client_id) { return client_id.rfind("https://", 0) == 0; }

namespace {

Result<store::ClientRecord> read_and_store(const std::string& url, const DocumentFetcher& fetch, OAuthContext& ctx);

}  // namespace

Result<store::ClientRecord> resolve_metadata_document_client(const std::string& url, const DocumentFetcher& fetch,
                                                             OAuthContext& ctx) {
  auto client = read_and_store(url, fetch, ctx);
  // SPEC §9: metadata-document fetches are audited, refusals with the
  // message the page showed (the fetcher logs why a fetch failed).
  ctx.audit.push({ctx.clock.now(), client ? "metadata_document_read" : "metadata_document_refused", "",
                  url.substr(0, 512), "", "/authorize", client ? 200 : 400, "",
                  client ? "" : client.error().message});
  return client;
}

namespace {

Result<store::ClientRecord> read_and_store(const std::string& url, const DocumentFetcher& fetch, OAuthContext& ctx) {
  auto body = fetch(url);
  if (!body) return body.error();
  auto doc = parse_json_strict(*body);
  if (!doc || !doc->is<picojson::object>()) return make_error("the client metadata document is not a JSON object");
  const auto& m = doc->get<picojson::object>();
  auto get_string = [&](const char* name) -> std::string {
    auto it = m.find(name);
    return it != m.end() && it->second.is<std::string>() ? it->second.get<std::string>() : "";
  };
  if (get_string("client_id") != url) return make_error("the document's client_id differs from its URL");
  if (m.count("client_secret")) return make_error("a client metadata document must not carry a client_secret");
  const std::string method = get_string("token_endpoint_auth_method");
  if (!method.empty() && method != "none")
    return make_error("token_endpoint_auth_method " + method + " is not supported for metadata-document clients");
  // A document that asks for a grant a self-registered client may not hold
  // (client_credentials above all) is refused as a whole, as /register
  // refuses it, rather than quietly trimmed: the operator and the client's
  // author see why, and nothing the document asked for is half-granted.
  if (auto it = m.find("grant_types"); it != m.end()) {
    if (!it->second.is<picojson::array>()) return make_error("the document's grant_types is not an array");
    for (const auto& g : it->second.get<picojson::array>())
      if (!g.is<std::string>() || !is_self_service_grant(g.get<std::string>()))
        return make_error("the document asks for a grant type other than authorization_code and refresh_token");
  }
  auto uris_it = m.find("redirect_uris");
  if (uris_it == m.end() || !uris_it->second.is<picojson::array>() || uris_it->second.get<picojson::array>().empty())
    return make_error("the document lists no redirect_uris");
  store::ClientRecord c;
  for (const auto& u : uris_it->second.get<picojson::array>()) {
    if (!u.is<std::string>() || !is_acceptable_redirect_uri(u.get<std::string>()))
      return make_error("the document lists a redirect URI that is not https or loopback");
    c.redirect_uris.push_back(u.get<std::string>());
  }
  if (c.redirect_uris.size() > 10) return make_error("the document lists more than 10 redirect URIs");
  c.client_id = url;
  const std::string given_name = get_string("client_name");
  if (!is_plain_text(given_name))
    return make_error("the document's client_name contains a control character or a bidirectional override");
  c.name = std::string(utf8_prefix(given_name, 128));
  if (c.name.empty()) c.name = uri_host(url);
  c.is_public = true;
  if (m.count("scope"))
    c.scope = join_scopes(intersect(parse_scopes(get_string("scope")), ctx.verifier.scope_policy()->known()));
  c.grant_types = "authorization_code refresh_token";
  c.registration = "metadata_document";
  c.metadata_json = body->substr(0, 8192);
  c.created_at = ctx.clock.now();
  ctx.store.upsert_metadata_document_client(c);
  return c;
}

}  // namespace

}  // namespace plugauth

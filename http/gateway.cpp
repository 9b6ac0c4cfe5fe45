#include "http/gateway.h"

#include <httplib.h>

#include <chrono>
#include <memory>
#include <optional>

#include "auth/credentials.h"
#include "auth/routes.h"
#include "common/json.h"

namespace plugauth {
namespace {

constexpr size_t kMaxBatchTokens = 100;

std::string quote_param(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) out += c;
  }
  return out + "\"";
}

std::string path_only(std::string_view uri) {
  return std::string(uri.substr(0, uri.find_first_of("?#")));
}

struct GatewayHandler {
  GatewayDeps deps;
  AddressMatcher trusted;

  explicit GatewayHandler(GatewayDeps d) : deps(d), trusted(d.config.trusted_proxies) {}

  // Forwarded headers count only when the peer is a trusted proxy. Proxies
  // set one of the two names and may pass the other through from the
  // client; when both are present and disagree, or either is repeated,
  // nothing is believed.
  static constexpr std::string_view kOriginalUri = "X-Original-URI", kForwardedUri = "X-Forwarded-Uri";
  static constexpr std::string_view kOriginalMethod = "X-Original-Method",
                                    kForwardedMethod = "X-Forwarded-Method";
  static constexpr std::string_view kForwardedHost = "X-Forwarded-Host",
                                    kForwardedProto = "X-Forwarded-Proto";
  static constexpr std::string_view kAuthorization = "Authorization";

  static std::optional<std::string_view> forwarded(const http::PlainRequest& req, bool from_trusted,
                                                   std::string_view a, std::string_view b) {
    if (!from_trusted) return std::string_view();
    const size_t count_a = req.header_count(a), count_b = req.header_count(b);
    if (count_a > 1 || count_b > 1) return std::nullopt;
    if (count_a == 0) return req.header(b);
    const std::string_view value = req.header(a);
    if (count_b == 1 && req.header(b) != value) return std::nullopt;
    return value;
  }

  ScopeSet requested_scopes(const http::PlainRequest& req, const std::string& uri, const std::string& method,
                            const std::string& resource) const {
    ScopeSet required = required_scopes_for(deps.config.routes, uri, method);
    for (const auto& r : deps.config.resources) {
      if (r.uri != resource) continue;
      auto more = required_scopes_for(r.routes, uri, method);
      required.insert(more.begin(), more.end());
    }
    auto range = req.params.equal_range("scope");
    for (auto it = range.first; it != range.second; ++it) {
      auto more = parse_scopes(it->second);
      required.insert(more.begin(), more.end());
    }
    return required;
  }

  // The resource this request protects: ?resource=, else the configured
  // resource the forwarded URL falls under (X-Forwarded-Proto/Host + the
  // original URI, from a trusted proxy), else the default resource.
  std::string resource_of(const http::PlainRequest& req, bool from_trusted, const std::string& uri) const {
    if (std::string_view r = req.param("resource"); !r.empty()) return std::string(r);
    if (!uri.empty() && from_trusted && req.header_count(kForwardedHost) == 1) {
      std::string_view proto = req.header(kForwardedProto);
      if (proto != "http" && proto != "https") proto = "https";
      const std::string url = std::string(proto) + "://" + std::string(req.header(kForwardedHost)) + uri;
      if (const ResourceConfig* match = resource_for_url(deps.config, url)) return match->uri;
    }
    return deps.config.resources.front().uri;
  }

  void audit_failure(const http::PlainRequest& req, const std::string& uri, const VerifyOutcome& o,
                     int status) {
    store::AuditEvent e;
    e.at = deps.clock.now();
    e.action = status == 403 ? "verify_forbidden" : "verify_failed";
    if (o.identity) {
      e.subject = o.identity->subject;
      e.key_id = o.identity->token_id;
      e.client_id = o.identity->client;
    }
    e.api_path = path_only(uri).substr(0, 512);
    e.status = status;
    e.client_ip = std::string(req.remote_addr);
    e.detail = o.result == VerifyResult::InsufficientScope ? "needs scope: " + join_scopes(o.required)
                                                           : o.error_description;
    deps.audit.push(std::move(e));
  }

  // The credential the request carries: Authorization (Bearer or Basic) or
  // the configured API-key header. A repeated carrier is refused: which of
  // two values a server would read is exactly what a smuggler hopes to
  // choose.
  std::optional<PresentedCredential> credential_of(const http::PlainRequest& req) const {
    const std::string& custom_name = deps.config.api_key_header;
    if (req.header_count(kAuthorization) > 1 || (!custom_name.empty() && req.header_count(custom_name) > 1))
      return PresentedCredential{"", true, "more than one credential header"};
    return extract_credential(req.header(kAuthorization), custom_name.empty() ? "" : req.header(custom_name));
  }

  void handle_verify(const http::PlainRequest& req, http::PlainResponse& res) {
    const auto started = std::chrono::steady_clock::now();
    const bool from_trusted = trusted.contains(std::string(req.remote_addr));
    auto forwarded_uri = forwarded(req, from_trusted, kOriginalUri, kForwardedUri);
    auto forwarded_method = forwarded(req, from_trusted, kOriginalMethod, kForwardedMethod);
    if (!forwarded_uri || !forwarded_method) {
      res.status = 403;
      res.set_header("WWW-Authenticate", "Bearer realm=" + quote_param(deps.config.issuer) +
                                             ", error=\"invalid_request\", error_description=\"conflicting "
                                             "forwarded request headers\"");
      res.set_content(to_json(error_json("invalid_request", "conflicting forwarded request headers")),
                      "application/json");
      deps.audit.push({deps.clock.now(), "verify_forbidden", "", "", "", "", 403,
                       std::string(req.remote_addr),
                       "conflicting or repeated X-Original-*/X-Forwarded-* headers"});
      return;
    }
    const std::string uri(*forwarded_uri);
    std::string method(*forwarded_method);
    if (method.empty()) method = req.method;
    const std::string resource = resource_of(req, from_trusted, uri);
    const ScopeSet required = requested_scopes(req, uri, method, resource);

    auto credential = credential_of(req);
    VerifyOutcome outcome;
    if (!credential) {
      outcome.result = VerifyResult::NoCredentials;
      outcome.required = required;
    } else if (credential->malformed) {
      outcome.result = VerifyResult::InvalidToken;
      outcome.error_description = credential->problem;
    } else {
      outcome = deps.verifier.verify(credential->token, required, resource);
    }
    render(req, res, uri, resource, outcome);
    deps.metrics.record_verify(outcome.identity.get(), outcome.result,
                               std::chrono::steady_clock::now() - started);
  }

  void render(const http::PlainRequest& req, http::PlainResponse& res, const std::string& uri,
              const std::string& resource, const VerifyOutcome& o) {
    // Built only for a refusal: a 200 carries no WWW-Authenticate.
    auto realm = [&] { return "Bearer realm=" + quote_param(deps.config.issuer); };
    auto metadata = [&] { return quote_param(resource_metadata_url(deps.config, resource)); };
    switch (o.result) {
      case VerifyResult::Ok: {
        const Identity& id = *o.identity;
        res.status = 200;
        res.set_header("X-Auth-Subject", id.subject);
        if (!id.username.empty()) res.set_header("X-Auth-Username", id.username);
        res.set_header("X-Auth-Scope", id.scope);
        if (!id.client.empty()) res.set_header("X-Auth-Client", id.client);
        res.set_header("X-Auth-Type", credential_type_name(id.type));
        res.set_header("X-Auth-Token-Id", id.token_id);
        return;
      }
      case VerifyResult::NoCredentials:
        // RFC 6750 §3.1: no error code when the request had no credentials.
        res.status = 401;
        res.set_header("WWW-Authenticate", realm() + ", resource_metadata=" + metadata());
        res.set_content(R"({"error":"invalid_request","error_description":"no credentials"})",
                        "application/json");
        return;
      case VerifyResult::InvalidToken:
        res.status = 401;
        res.set_header("WWW-Authenticate", realm() + ", error=\"invalid_token\", error_description=" +
                                               quote_param(o.error_description) +
                                               ", resource_metadata=" + metadata());
        res.set_content(to_json(error_json("invalid_token", o.error_description)), "application/json");
        audit_failure(req, uri, o, 401);
        return;
      case VerifyResult::InsufficientScope: {
        const std::string scope = join_scopes(o.required);
        res.status = 403;
        res.set_header("WWW-Authenticate", realm() + ", error=\"insufficient_scope\", scope=" +
                                               quote_param(scope) + ", resource_metadata=" + metadata());
        res.set_content(to_json(error_json("insufficient_scope", "requires scope: " + scope)),
                        "application/json");
        audit_failure(req, uri, o, 403);
        return;
      }
    }
  }

  static picojson::value error_json(const std::string& error, const std::string& description) {
    picojson::object o;
    o["error"] = picojson::value(error);
    o["error_description"] = picojson::value(description);
    return picojson::value(std::move(o));
  }

  void handle_batch(const httplib::Request& req, httplib::Response& res) {
    auto bad = [&](const std::string& why) {
      res.status = 400;
      res.set_content(to_json(error_json("invalid_request", why)), "application/json");
    };
    auto body = parse_json_strict(req.body);
    if (!body || !body->is<picojson::object>()) return bad("the body must be a JSON object");
    const auto& o = body->get<picojson::object>();
    auto tokens_it = o.find("tokens");
    if (tokens_it == o.end() || !tokens_it->second.is<picojson::array>())
      return bad("\"tokens\" must be an array of strings");
    const auto& tokens = tokens_it->second.get<picojson::array>();
    if (tokens.size() > kMaxBatchTokens) return bad("at most 100 tokens per batch");
    ScopeSet required;
    if (auto s = o.find("scope"); s != o.end()) {
      if (!s->second.is<std::string>()) return bad("\"scope\" must be a string");
      required = parse_scopes(s->second.get<std::string>());
    }
    std::string resource;
    if (auto r = o.find("resource"); r != o.end()) {
      if (!r->second.is<std::string>()) return bad("\"resource\" must be a string");
      resource = r->second.get<std::string>();
    }
    for (const auto& t : tokens)
      if (!t.is<std::string>()) return bad("\"tokens\" must be an array of strings");

    picojson::array results;
    for (const auto& t : tokens) {
      const auto started = std::chrono::steady_clock::now();
      VerifyOutcome v = deps.verifier.verify(t.get<std::string>(), required, resource);
      deps.metrics.record_verify(v.identity.get(), v.result, std::chrono::steady_clock::now() - started);
      picojson::object r;
      if (v.result == VerifyResult::Ok) {
        const Identity& id = *v.identity;
        r["active"] = picojson::value(true);
        r["sub"] = picojson::value(id.subject);
        r["scope"] = picojson::value(id.scope);
        r["type"] = picojson::value(credential_type_name(id.type));
        r["token_id"] = picojson::value(id.token_id);
        if (!id.username.empty()) r["username"] = picojson::value(id.username);
        if (!id.client.empty()) r["client_id"] = picojson::value(id.client);
        if (id.expires_at) r["exp"] = picojson::value(static_cast<double>(*id.expires_at));
      } else {
        r["active"] = picojson::value(false);
        r["error"] = picojson::value(v.result == VerifyResult::InsufficientScope ? "insufficient_scope"
                                                                                 : "invalid_token");
      }
      results.emplace_back(std::move(r));
    }
    picojson::object out;
    out["results"] = picojson::value(std::move(results));
    res.status = 200;
    res.set_content(to_json(picojson::value(std::move(out))), "application/json");
  }
};

}  // namespace

std::string resource_metadata_url(const Config& config, const std::string& resource) {
  const std::string base = config.issuer + "/.well-known/oauth-protected-resource";
  if (config.resources.empty() || resource == config.resources.front().uri) return base;
  auto scheme_end = resource.find("://");
  auto path_start = scheme_end == std::string::npos ? std::string::npos : resource.find('/', scheme_end + 3);
  return path_start == std::string::npos ? base : base + resource.substr(path_start);
}

bool is_gateway_path(std::string_view path) {
  return path == "/verify" || path == "/verify/batch" || path == "/metrics";
}

namespace {

http::PlainRequest plain_request(const httplib::Request& req) {
  http::PlainRequest plain;
  plain.method = req.method;
  plain.target = req.target;
  plain.path = req.path;
  plain.remote_addr = req.remote_addr;
  plain.params = req.params;
  plain.headers.reserve(req.headers.size());
  for (const auto& [name, value] : req.headers) plain.headers.emplace_back(name, value);
  return plain;
}

void apply_plain_response(http::PlainResponse& plain, httplib::Response& res) {
  res.status = plain.status;
  for (auto& [name, value] : plain.headers) res.set_header(std::string(name), value);
  if (!plain.body.empty()) res.set_content(std::move(plain.body), std::string(plain.content_type));
}

}  // namespace

http::EventServer::FastHandler register_gateway_routes(httplib::Server& server, GatewayDeps deps) {
  auto handler = std::make_shared<GatewayHandler>(deps);
  // Requests other than a plain GET (see http/plain_get.h) come through
  // httplib: the same decision over the same light request and response.
  auto verify = [handler](const httplib::Request& req, httplib::Response& res) {
    http::PlainResponse plain;
    handler->handle_verify(plain_request(req), plain);
    apply_plain_response(plain, res);
  };
  // Any method: the proxy may mirror the original one (HEAD is served by Get).
  server.Get("/verify", verify);
  server.Post("/verify", verify);
  server.Put("/verify", verify);
  server.Patch("/verify", verify);
  server.Delete("/verify", verify);
  server.Options("/verify", verify);
  server.Post("/verify/batch", [handler](const httplib::Request& req, httplib::Response& res) {
    handler->handle_batch(req, res);
  });
  server.Get("/metrics", [handler](const httplib::Request&, httplib::Response& res) {
    Metrics::Gauges g;
    g.cache_hits = handler->deps.verifier.cache_hits();
    g.cache_misses = handler->deps.verifier.cache_misses();
    g.audit_queue_depth = handler->deps.audit.depth();
    g.audit_dropped = handler->deps.audit.dropped();
    g.audit_coalesced = handler->deps.audit.coalesced();
    res.set_content(handler->deps.metrics.render(g), "text/plain; version=0.0.4");
  });
  return [handler](const http::PlainRequest& req, http::PlainResponse& res) {
    handler->handle_verify(req, res);
  };
}

}  // namespace plugauth

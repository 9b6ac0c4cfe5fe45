#include "http/gateway.h"

#include <httplib.h>

#include <chrono>
#include <memory>
#include <optional>

#include "auth/gateway_decision.h"
#include "http/oauth_response.h"
#include "common/json.h"

namespace plugauth {
namespace {

using http::quote_param;

constexpr size_t kMaxBatchTokens = 100;

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    const char y = b[i] >= 'A' && b[i] <= 'Z' ? static_cast<char>(b[i] - 'A' + 'a') : b[i];
    if (x != y) return false;
  }
  return true;
}

std::vector<std::string_view> params_of(const http::PlainRequest& req, const std::string& name) {
  std::vector<std::string_view> out;
  auto range = req.params.equal_range(name);
  for (auto it = range.first; it != range.second; ++it) out.emplace_back(it->second);
  return out;
}

struct GatewayHandler {
  GatewayDeps deps;
  AddressMatcher trusted;
  AddressMatcher metrics_from;

  explicit GatewayHandler(GatewayDeps d)
      : deps(d), trusted(d.config.trusted_proxies), metrics_from(d.config.metrics_from) {}

  // The request as auth/gateway_decision.h reads it. The forwarded fields
  // hold their raw values on both fronts (http/plain_get.h is_raw_field).
  GatewayRequest view_of(const http::PlainRequest& req) const {
    GatewayRequest v;
    v.method = req.method;
    v.from_trusted_proxy = trusted.contains(std::string(req.remote_addr));
    // One pass over the fields (the hot path): each value, repeats included.
    const std::string& api_key_header = deps.config.api_key_header;
    const std::pair<std::string_view, std::vector<std::string_view>*> fields[] = {
        {"Authorization", &v.authorization},       {"X-Original-URI", &v.original_uri},
        {"X-Forwarded-Uri", &v.forwarded_uri},     {"X-Original-Method", &v.original_method},
        {"X-Forwarded-Method", &v.forwarded_method}, {"X-Forwarded-Host", &v.forwarded_host},
        {"X-Forwarded-Proto", &v.forwarded_proto}};
    for (const auto& [name, value] : req.headers) {
      for (const auto& [field, values] : fields)
        if (iequals(name, field)) values->push_back(value);
      if (!api_key_header.empty() && iequals(name, api_key_header)) v.api_key.push_back(value);
    }
    v.scope_params = params_of(req, "scope");
    v.resource_params = params_of(req, "resource");
    return v;
  }

  void handle_verify(const http::PlainRequest& req, http::PlainResponse& res) {
    const auto started = std::chrono::steady_clock::now();
    const GatewayDecision d =
        decide_gateway(view_of(req), deps.config,
                       [this](std::string_view token, const ScopeSet& required, std::string_view resource) {
                         return deps.verifier.verify(token, required, resource);
                       });
    render(res, d);
    if (d.audit) {
      store::AuditEvent e;
      e.at = deps.clock.now();
      e.action = d.audit_action;
      if (d.identity) {
        e.subject = d.identity->subject;
        e.key_id = d.identity->token_id;
        e.client_id = d.identity->client;
      } else {
        e.key_id = d.refused_id;  // a revoked or expired key is still named
      }
      e.api_path = d.path;
      e.status = d.status;
      // The client behind a trusted proxy, as every other log line names it.
      std::vector<std::string_view> forwarded_for;
      for (const auto& [name, value] : req.headers)
        if (iequals(name, "X-Forwarded-For")) forwarded_for.push_back(value);
      const std::string peer(req.remote_addr);
      e.client_ip = client_address(peer, forwarded_for, trusted).value_or(peer);
      e.detail = d.audit_detail;
      deps.audit.push(std::move(e));
    }
    deps.metrics.record_verify(d.identity.get(), d.result, std::chrono::steady_clock::now() - started);
  }

  // RFC 6750 §3 / RFC 9728 §5.1: the challenge names the error (none when
  // no credentials were sent), the scopes the request needs, and where the
  // resource's metadata is.
  void render(http::PlainResponse& res, const GatewayDecision& d) const {
    res.status = d.status;
    if (d.status == 200) {
      const Identity& id = *d.identity;
      res.set_header("X-Auth-Subject", id.subject);
      if (!id.username.empty()) res.set_header("X-Auth-Username", id.username);
      res.set_header("X-Auth-Scope", id.scope);
      if (!id.client.empty()) res.set_header("X-Auth-Client", id.client);
      res.set_header("X-Auth-Type", credential_type_name(id.type));
      res.set_header("X-Auth-Token-Id", id.token_id);
      return;
    }
    std::string challenge = "Bearer realm=" + quote_param(deps.config.issuer);
    if (!d.error.empty())
      challenge += ", error=" + quote_param(d.error) + ", error_description=" + quote_param(d.error_description);
    if (!d.scope.empty() && d.error != "invalid_request") challenge += ", scope=" + quote_param(d.scope);
    if (!d.resource_metadata.empty() && d.error != "invalid_request")
      challenge += ", resource_metadata=" + quote_param(d.resource_metadata);
    res.set_header("WWW-Authenticate", std::move(challenge));
    res.set_content(oauth_error_json({d.error.empty() ? "invalid_request" : d.error, d.error_description, d.status}),
                    "application/json");
  }

  void handle_batch(const httplib::Request& req, httplib::Response& res) {
    auto bad = [&](const std::string& why) {
      res.status = 400;
      res.set_content(oauth_error_json(oauth_errors::kInvalidRequest.with(why)), "application/json");
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
  // /metrics: only to metrics_from (SPEC §3), judged by the client's
  // address as the gateway reads it behind trusted_proxies. Behind a
  // reverse proxy every peer is the proxy; the client is in X-Forwarded-For.
  server.Get("/metrics", [handler](const httplib::Request& req, httplib::Response& res) {
    std::vector<std::string_view> forwarded_for;
    auto range = req.headers.equal_range("X-Forwarded-For");
    for (auto it = range.first; it != range.second; ++it) forwarded_for.emplace_back(it->second);
    const auto client = client_address(req.remote_addr, forwarded_for, handler->trusted);
    if (!client || !handler->metrics_from.contains(*client)) {
      res.status = 403;
      res.set_content(R"({"error":"access_denied","error_description":"metrics are not served to this address"})",
                      "application/json");
      return;
    }
    Metrics::Gauges g;
    g.cache_hits = handler->deps.verifier.cache_hits();
    g.cache_misses = handler->deps.verifier.cache_misses();
    g.cache_evictions = handler->deps.verifier.cache_evictions();
    g.audit_queue_depth = handler->deps.audit.depth();
    g.audit_full_waits = handler->deps.audit.full_waits();
    g.audit_coalesced = handler->deps.audit.coalesced();
    g.sign_in_locks = handler->deps.throttle.sign_in_locks();
    if (handler->deps.signing_keys)
      for (const auto& k : handler->deps.signing_keys->list())
        if (k.current) g.signing_key_age = handler->deps.clock.now() - k.created_at;
    res.set_content(handler->deps.metrics.render(g), "text/plain; version=0.0.4");
  });
  return [handler](const http::PlainRequest& req, http::PlainResponse& res) {
    handler->handle_verify(req, res);
  };
}

}  // namespace plugauth

#include "auth/gateway_decision.h"

#include <optional>

#include "auth/credentials.h"
#include "auth/request_path.h"
#include "auth/routes.h"
#include "common/url.h"

namespace plugauth {
namespace {

constexpr size_t kMaxMethodLength = 32;

bool is_token_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// One value from a pair of field names a proxy may set either of (nginx sets
// X-Original-*, Caddy and Traefik X-Forwarded-*) and may pass the other
// through from the client: a repeat, or two values that disagree, leave it
// unreadable (nullopt). Absent: an empty view.
std::optional<std::string_view> one_of(const std::vector<std::string_view>& a,
                                       const std::vector<std::string_view>& b) {
  if (a.size() > 1 || b.size() > 1) return std::nullopt;
  if (a.empty()) return b.empty() ? std::string_view() : b.front();
  if (!b.empty() && b.front() != a.front()) return std::nullopt;
  return a.front();
}

GatewayDecision refused(std::string description) {
  GatewayDecision d;
  d.status = 403;  // nginx auth_request turns anything but 401/403 into a 500
  d.result = VerifyResult::InvalidToken;
  d.error = "invalid_request";
  d.error_description = std::move(description);
  d.audit = true;
  d.audit_action = "verify_forbidden";
  d.audit_detail = d.error_description;
  return d;
}

GatewayDecision no_resource(std::string description) {
  GatewayDecision d;
  d.status = 401;
  d.result = VerifyResult::InvalidToken;
  d.error = "invalid_token";
  d.error_description = std::move(description);
  d.audit = true;
  d.audit_action = "verify_failed";
  d.audit_detail = d.error_description;
  return d;
}

bool any_route_rules(const Config& config) {
  if (!config.routes.empty()) return true;
  for (const auto& r : config.resources)
    if (!r.routes.empty()) return true;
  return false;
}

}  // namespace

GatewayDecision decide_gateway(const GatewayRequest& req, const Config& config, const CredentialCheck& check) {
  static const std::vector<std::string_view> kNone;
  const bool trusted = req.from_trusted_proxy;
  // From anyone else, forwarded fields are the client's own words: ignored.
  const auto uri = one_of(trusted ? req.original_uri : kNone, trusted ? req.forwarded_uri : kNone);
  const auto forwarded_method = one_of(trusted ? req.original_method : kNone, trusted ? req.forwarded_method : kNone);
  const auto host = one_of(trusted ? req.forwarded_host : kNone, kNone);
  const auto proto = one_of(trusted ? req.forwarded_proto : kNone, kNone);
  if (!uri || !forwarded_method || !host || !proto) return refused("conflicting forwarded request headers");

  const std::string_view method = forwarded_method->empty() ? req.method : *forwarded_method;
  if (method.empty() || method.size() > kMaxMethodLength)
    return refused("the original method is not an HTTP method");
  for (char c : method)
    if (!is_token_char(c)) return refused("the original method is not an HTTP method");

  GatewayDecision out;
  std::optional<std::string> path;
  if (!uri->empty()) {
    PathReading reading = read_request_path(*uri, config.strict_paths);
    if (!reading.ok) {
      GatewayDecision d = refused(reading.problem);
      d.path = std::string(uri->substr(0, 512));
      return d;
    }
    path = std::move(reading.path);
  } else if (any_route_rules(config)) {
    return refused("no X-Original-URI or X-Forwarded-Uri: the route rules cannot be applied");
  }

  // The resource (RFC 8707): with one, every request is for it.
  if (req.resource_params.size() > 1) return refused("more than one resource parameter");
  const ResourceConfig* resource = nullptr;
  if (!req.resource_params.empty()) {
    resource = resource_named(config, req.resource_params.front());
    if (resource == nullptr) return no_resource("the resource parameter names no protected resource");
  }
  if (config.resources.size() > 1) {
    const ResourceConfig* by_url = nullptr;
    if (path && !host->empty() && !proto->empty())
      by_url = resource_for_url(config, ForwardedUrl{*proto, *host, *path});
    if (resource == nullptr) resource = by_url;
    if (resource == nullptr) return no_resource("the request's URL is under no protected resource");
    if (by_url != nullptr && by_url != resource)
      return no_resource("the resource parameter and the request's URL name different resources");
  } else if (resource == nullptr) {
    resource = &config.resources.front();
  }

  ScopeSet required;
  if (path) {
    required = required_scopes_for(config.routes, *path, method);
    const ScopeSet more = required_scopes_for(resource->routes, *path, method);
    required.insert(more.begin(), more.end());
    out.path = path->substr(0, 512);
  }
  for (auto s : req.scope_params) {
    const ScopeSet more = parse_scopes(std::string(s));
    required.insert(more.begin(), more.end());
  }
  out.scope = join_scopes(required);

  // The credential: Authorization (Bearer or Basic) or the API-key header.
  // A repeated carrier is refused: which of two values a server would read
  // is exactly what a smuggler hopes to choose.
  VerifyOutcome outcome;
  if (req.authorization.size() > 1 || req.api_key.size() > 1) {
    outcome.result = VerifyResult::InvalidToken;
    outcome.error_description = "more than one credential header";
  } else {
    auto credential = extract_credential(req.authorization.empty() ? std::string_view() : req.authorization.front(),
                                         req.api_key.empty() ? std::string_view() : req.api_key.front());
    if (!credential) {
      outcome.result = VerifyResult::NoCredentials;
    } else if (credential->malformed) {
      outcome.result = VerifyResult::InvalidToken;
      outcome.error_description = credential->problem;
    } else {
      outcome = check(credential->token, required, resource->uri);
    }
  }

  out.result = outcome.result;
  out.identity = outcome.identity;
  if (outcome.result != VerifyResult::Ok) out.resource_metadata = resource_metadata_url(config, resource->uri);
  switch (outcome.result) {
    case VerifyResult::Ok:
      out.status = 200;
      break;
    case VerifyResult::NoCredentials:
      // RFC 6750 §3.1: no error code when the request had no credentials.
      out.status = 401;
      out.error_description = "no credentials";
      break;
    case VerifyResult::InvalidToken:
      out.status = 401;
      out.error = "invalid_token";
      out.error_description = outcome.error_description;
      out.audit = true;
      out.audit_action = "verify_failed";
      out.audit_detail = outcome.error_description;
      out.refused_id = outcome.refused_id;
      break;
    case VerifyResult::InsufficientScope:
      out.status = 403;
      out.error = "insufficient_scope";
      out.error_description = "requires scope: " + out.scope;
      out.audit = true;
      out.audit_action = "verify_forbidden";
      out.audit_detail = "needs scope: " + out.scope;
      break;
  }
  return out;
}

std::string resource_metadata_suffix(const std::string& resource) {
  const auto parsed = parse_url(resource);
  std::string path = parsed ? parsed->path : std::string();
  while (!path.empty() && path.back() == '/') path.pop_back();
  return path;
}

std::string resource_metadata_url(const Config& config, const std::string& resource) {
  return config.issuer + "/.well-known/oauth-protected-resource" + resource_metadata_suffix(resource);
}

}  // namespace plugauth

// The gateway decision (SPEC §3 `/verify`, §8.14), in one pure function: a
// view of the request in, a decision out. http/gateway.cpp only fills the
// view from either front (the fast lane or httplib) and renders the
// decision; these rules are the whole of what /verify lets through, and
// tests/unit/gateway_decision_test.cpp is their specification.
//
// It fails closed: what it cannot read unambiguously it refuses.
//   - Forwarded fields count only from a trusted proxy; a repeated one, or
//     X-Original-* and X-Forwarded-* that disagree, is refused.
//   - The original path is read once, strictly (auth/request_path.h).
//   - With route rules configured, a request that names no original URI is
//     refused: the rules cannot be applied to a path nobody stated.
//   - With several resources, a request is for the resource its forwarded
//     URL (scheme, host, path) falls under, or the one `?resource=` names;
//     if they disagree or none matches, the answer is 401 invalid_token.
//     `?resource=` naming no configured resource is refused likewise.
//   - Two credential carriers, or two `resource` parameters, are refused.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "auth/scopes.h"
#include "auth/verifier.h"
#include "config/config.h"

namespace plugauth {

// What the gateway reads of a /verify request. Each field list holds every
// value the request carried, in order (so repeats can be seen).
struct GatewayRequest {
  std::string_view method;  // of the /verify request itself
  bool from_trusted_proxy = false;
  std::vector<std::string_view> original_uri, forwarded_uri;        // X-Original-URI, X-Forwarded-Uri (raw)
  std::vector<std::string_view> original_method, forwarded_method;  // X-Original-Method, X-Forwarded-Method
  std::vector<std::string_view> forwarded_host, forwarded_proto;    // X-Forwarded-Host, X-Forwarded-Proto
  std::vector<std::string_view> authorization, api_key;             // Authorization, the api_key_header
  std::vector<std::string_view> scope_params, resource_params;      // ?scope=, ?resource=
};

// Checks a credential: Verifier::verify in the daemon.
using CredentialCheck =
    std::function<VerifyOutcome(std::string_view token, const ScopeSet& required, std::string_view resource)>;

struct GatewayDecision {
  int status = 0;                              // 200, 401 or 403
  VerifyResult result = VerifyResult::NoCredentials;  // for metrics
  std::shared_ptr<const Identity> identity;    // on 200 (and when the token was valid)
  // The challenge (RFC 6750 §3, RFC 9728 §5.1) of a 401 or 403.
  std::string error;                           // "", invalid_request, invalid_token, insufficient_scope
  std::string error_description;               // safe to send
  std::string scope;                           // the scopes the request needs, space-separated
  std::string resource_metadata;               // the resource's metadata URL, when one is known
  // An audit row, when the request is worth one (refusals other than "no credentials").
  bool audit = false;
  std::string audit_action;                    // verify_failed | verify_forbidden
  std::string audit_detail;
  std::string refused_id;                      // a genuine key or token refused: its id (audit key_id)
  std::string path;                            // the path as read, for the audit log
};

GatewayDecision decide_gateway(const GatewayRequest& request, const Config& config, const CredentialCheck& check);

// "<issuer>/.well-known/oauth-protected-resource<path of resource>" (RFC 9728
// §3.1, the path-inserted URL), for every resource, the first included.
std::string resource_metadata_url(const Config& config, const std::string& resource);

// The part of that URL after the well-known path: the resource URI's path
// without trailing "/" ("" for an origin). The metadata route matches it.
std::string resource_metadata_suffix(const std::string& resource);

}  // namespace plugauth

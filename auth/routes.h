// Which protected resource a /verify request is for, and which scopes its
// path needs (SPEC §3 `/verify`, §7 `resources`, `routes`). Both read only
// the path as auth/request_path.h read it, never the raw header.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "auth/scopes.h"
#include "config/config.h"

namespace plugauth {

// Whether a rule's method covers the request's: ASCII case-insensitive,
// and a rule naming GET also covers HEAD (a HEAD is a GET without the body:
// every framework routes it to the GET handler).
bool route_method_matches(std::string_view rule_method, std::string_view request_method);

// `routes` (SPEC §7): the scopes the most specific rule matching `path` (as
// read by read_request_path) and `method` requires; empty if none matches.
// A prefix matches whole path segments, case-insensitively
// (path_under_prefix); the longest matching prefix wins; a rule with methods
// applies only to those methods.
ScopeSet required_scopes_for(const std::vector<RouteRule>& rules, std::string_view path,
                             std::string_view method);

// The URL a trusted proxy says the request was for: X-Forwarded-Proto,
// X-Forwarded-Host and the path as read.
struct ForwardedUrl {
  std::string_view scheme;  // "http" or "https", any case
  std::string_view host;    // host[:port]
  std::string_view path;    // as read by read_request_path
};

// The configured resource whose scheme, host (case-insensitive, default port
// dropped) and path prefix (whole segments, case-insensitive) match; the
// longest path prefix wins; nullptr when none does or the URL is not one.
const ResourceConfig* resource_for_url(const Config& config, const ForwardedUrl& url);

// The configured resource whose URI is exactly `uri`; nullptr if none.
const ResourceConfig* resource_named(const Config& config, std::string_view uri);

}  // namespace plugauth

// `routes` (SPEC §7): which scopes a request path needs. A prefix matches
// whole path segments ("/admin" matches "/admin" and "/admin/x", not
// "/adminx"); the query string is ignored; the longest matching prefix wins;
// a rule with methods applies only to those methods.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "auth/scopes.h"
#include "config/config.h"

namespace plugauth {

// The path as the upstream will most likely see it: query and fragment
// dropped, percent-escapes decoded, "//", "." and ".." segments resolved, so
// that "/public/../admin" and "/%61dmin" cannot slip past an "/admin" rule.
std::string normalize_request_path(std::string_view path_and_query);

// The configured resource a request URL belongs to: the one whose URI is
// the longest prefix of `url` on a path-segment boundary; nullptr if none.
const ResourceConfig* resource_for_url(const Config& config, std::string_view url);

// The scopes the most specific matching rule requires; empty if none matches.
ScopeSet required_scopes_for(const std::vector<RouteRule>& rules, std::string_view path_and_query,
                             std::string_view method);

}  // namespace plugauth

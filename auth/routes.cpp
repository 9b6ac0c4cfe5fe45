#include "auth/routes.h"

#include "auth/request_path.h"
#include "common/url.h"

namespace plugauth {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    const char y = b[i] >= 'A' && b[i] <= 'Z' ? static_cast<char>(b[i] - 'A' + 'a') : b[i];
    if (x != y) return false;
  }
  return true;
}

// A resource URI's path as a prefix: no trailing "/", "/" for none.
std::string_view prefix_of(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  return path.empty() ? std::string_view("/") : path;
}

}  // namespace

bool route_method_matches(std::string_view rule_method, std::string_view request_method) {
  if (iequals(rule_method, request_method)) return true;
  return iequals(rule_method, "GET") && iequals(request_method, "HEAD");
}

ScopeSet required_scopes_for(const std::vector<RouteRule>& rules, std::string_view path,
                             std::string_view method) {
  const RouteRule* best = nullptr;
  for (const auto& r : rules) {
    if (!r.methods.empty()) {
      bool covered = false;
      for (const auto& m : r.methods) covered = covered || route_method_matches(m, method);
      if (!covered) continue;
    }
    if (!path_under_prefix(path, r.prefix)) continue;
    if (best == nullptr || r.prefix.size() > best->prefix.size()) best = &r;
  }
  if (best == nullptr) return {};
  return ScopeSet(best->scopes.begin(), best->scopes.end());
}

const ResourceConfig* resource_for_url(const Config& config, const ForwardedUrl& url) {
  const auto authority = normalize_authority(url.host, url.scheme);
  if (!authority) return nullptr;
  const ResourceConfig* best = nullptr;
  size_t best_prefix = 0;
  for (const auto& r : config.resources) {
    const auto uri = parse_url(r.uri);
    if (!uri || !iequals(uri->scheme, url.scheme) || uri->normalized_authority() != *authority) continue;
    const std::string_view prefix = prefix_of(uri->path);
    if (!path_under_prefix(url.path, prefix)) continue;
    if (best == nullptr || prefix.size() > best_prefix) {
      best = &r;
      best_prefix = prefix.size();
    }
  }
  return best;
}

const ResourceConfig* resource_named(const Config& config, std::string_view uri) {
  for (const auto& r : config.resources)
    if (r.uri == uri) return &r;
  return nullptr;
}

}  // namespace plugauth

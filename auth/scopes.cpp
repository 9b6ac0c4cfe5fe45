#include "auth/scopes.h"

#include <algorithm>

namespace plugauth {

ScopeSet parse_scopes(std::string_view text) {
  ScopeSet out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == ',')) ++i;
    size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != ',') ++i;
    if (i > start) out.emplace(text.substr(start, i - start));
  }
  return out;
}

std::string join_scopes(const ScopeSet& scopes) {
  std::string out;
  for (const auto& s : scopes) {
    if (!out.empty()) out += ' ';
    out += s;
  }
  return out;
}

bool is_valid_scope_token(std::string_view scope) {
  if (scope.empty() || scope.size() > 128) return false;
  return std::all_of(scope.begin(), scope.end(), [](unsigned char c) {
    return c == 0x21 || (c >= 0x23 && c <= 0x5B) || (c >= 0x5D && c <= 0x7E);
  });
}

bool includes_all(const ScopeSet& have, const ScopeSet& need) {
  return std::includes(have.begin(), have.end(), need.begin(), need.end());
}

ScopeSet intersect(const ScopeSet& a, const ScopeSet& b) {
  ScopeSet out;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::inserter(out, out.end()));
  return out;
}

ScopePolicy::ScopePolicy(const std::map<std::string, std::string>& roles, const ScopeSet& other_known)
    : known_(other_known) {
  for (const auto& [name, scopes] : roles) {
    ScopeSet set = parse_scopes(scopes);
    if (set.count(kAllScopes)) {
      wildcard_roles_.insert(name);
      set.erase(kAllScopes);
    }
    known_.insert(set.begin(), set.end());
    roles_[name] = std::move(set);
  }
}

ScopeSet ScopePolicy::allowed_for_roles(const std::vector<std::string>& roles) const {
  ScopeSet out;
  for (const auto& r : roles) {
    if (wildcard_roles_.count(r)) return known_;
    auto it = roles_.find(r);
    if (it != roles_.end()) out.insert(it->second.begin(), it->second.end());
  }
  return out;
}

std::optional<std::string> api_scope_problem(const ScopeSet& scopes) {
  if (scopes.count(std::string(kOfflineAccess)))
    return "\"offline_access\" is not an API permission: a client with the refresh_token grant gets it by asking";
  return std::nullopt;
}

bool take_offline_access(ScopeSet& scopes) { return scopes.erase(std::string(kOfflineAccess)) != 0; }

}  // namespace plugauth

// Scope sets and the rules of SPEC §4 "Identities and defaults":
// the known scopes are those named in config `scopes`, by a role, by a
// resource's `scopes_supported`, or by a client; a role whose scopes are "*"
// (the built-in role `user`, by default) grants every known scope; a key
// without its own scopes acts with whatever its user's roles allow now.
#pragma once

#include <map>
#include <set>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace plugauth {

using ScopeSet = std::set<std::string>;

// "a b  c" (spaces or commas) → {"a","b","c"}.
ScopeSet parse_scopes(std::string_view text);

// SPEC §4, OpenID Connect Core §11: always known, never an API permission.
// Listed in the authorization server's metadata, granted to clients with the
// refresh_token grant and named in the token response's `scope`; never in
// an access token, a protected resource's metadata or a challenge.
inline constexpr std::string_view kOfflineAccess = "offline_access";
// Why `scopes`, meant as API permissions (a client's, a role's, a key's),
// cannot be; nullopt when they can.
std::optional<std::string> api_scope_problem(const ScopeSet& scopes);
// Takes offline_access out of `scopes`; true if it was there.
bool take_offline_access(ScopeSet& scopes);
std::string join_scopes(const ScopeSet& scopes);
bool is_valid_scope_token(std::string_view scope);  // RFC 6749 §3.3
bool includes_all(const ScopeSet& have, const ScopeSet& need);
ScopeSet intersect(const ScopeSet& a, const ScopeSet& b);

constexpr const char* kAllScopes = "*";

// An immutable view of roles and known scopes, rebuilt when they change.
class ScopePolicy {
 public:
  ScopePolicy() = default;
  // roles: name → space-separated scopes or "*"; other_known: scopes named by
  // config, resources and clients.
  ScopePolicy(const std::map<std::string, std::string>& roles, const ScopeSet& other_known);

  const ScopeSet& known() const { return known_; }
  // The union of the roles' scopes ("*" expanded to every known scope).
  ScopeSet allowed_for_roles(const std::vector<std::string>& roles) const;

 private:
  ScopeSet known_;
  std::map<std::string, ScopeSet> roles_;
  std::set<std::string> wildcard_roles_;
};

}  // namespace plugauth

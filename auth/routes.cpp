#include "auth/routes.h"

#include <algorithm>

namespace plugauth {
namespace {

bool prefix_matches(std::string_view prefix, std::string_view path) {
  if (prefix == "/") return true;
  if (path.substr(0, prefix.size()) != prefix) return false;
  return path.size() == prefix.size() || path[prefix.size()] == '/';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string normalize_request_path(std::string_view path_and_query) {
  std::string_view raw = path_and_query.substr(0, path_and_query.find_first_of("?#"));
  std::string decoded;
  decoded.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '%' && i + 2 < raw.size() && hex_value(raw[i + 1]) >= 0 && hex_value(raw[i + 2]) >= 0) {
      decoded.push_back(static_cast<char>(hex_value(raw[i + 1]) * 16 + hex_value(raw[i + 2])));
      i += 2;
    } else {
      decoded.push_back(raw[i]);
    }
  }
  // Segments, with "." dropped, ".." popping and empty ones ("//") removed.
  std::vector<std::string_view> segments;
  std::string_view rest = decoded;
  while (!rest.empty()) {
    size_t slash = rest.find('/');
    std::string_view seg = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    if (seg.empty() || seg == ".") continue;
    if (seg == "..") {
      if (!segments.empty()) segments.pop_back();
      continue;
    }
    segments.push_back(seg);
  }
  std::string out;
  for (auto seg : segments) {
    out += '/';
    out += seg;
  }
  return out.empty() ? "/" : out;
}

const ResourceConfig* resource_for_url(const Config& config, std::string_view url) {
  const ResourceConfig* best = nullptr;
  for (const auto& r : config.resources) {
    std::string_view uri = r.uri;
    while (uri.size() > 1 && uri.back() == '/') uri.remove_suffix(1);
    if (url.substr(0, uri.size()) != uri) continue;
    if (url.size() > uri.size() && url[uri.size()] != '/' && url[uri.size()] != '?') continue;
    if (best == nullptr || r.uri.size() > best->uri.size()) best = &r;
  }
  return best;
}

ScopeSet required_scopes_for(const std::vector<RouteRule>& rules, std::string_view path_and_query,
                             std::string_view method) {
  const std::string path = normalize_request_path(path_and_query);
  const RouteRule* best = nullptr;
  for (const auto& r : rules) {
    if (!r.methods.empty() && std::find(r.methods.begin(), r.methods.end(), method) == r.methods.end()) continue;
    if (!prefix_matches(r.prefix, path)) continue;
    if (best == nullptr || r.prefix.size() > best->prefix.size()) best = &r;
  }
  if (best == nullptr) return {};
  return ScopeSet(best->scopes.begin(), best->scopes.end());
}

}  // namespace plugauth

#include "auth/clients.h"

#include <sodium.h>

#include <algorithm>

namespace plugauth {
namespace {

struct UriParts {
  std::string scheme, host, port, rest;  // rest: path + query (+ fragment)
  bool ok = false;
};

// Just enough of RFC 3986 to compare redirect URIs: "scheme://host[:port]rest".
UriParts split_uri(std::string_view uri) {
  UriParts p;
  auto colon = uri.find("://");
  if (colon == std::string_view::npos) return p;
  p.scheme = std::string(uri.substr(0, colon));
  std::string_view after = uri.substr(colon + 3);
  size_t end = after.find_first_of("/?#");
  std::string_view authority = after.substr(0, end);
  p.rest = end == std::string_view::npos ? "" : std::string(after.substr(end));
  if (authority.find('@') != std::string_view::npos) return p;  // no userinfo, ever
  if (!authority.empty() && authority[0] == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return p;
    p.host = std::string(authority.substr(0, close + 1));
    auto tail = authority.substr(close + 1);
    if (!tail.empty()) {
      if (tail[0] != ':') return p;
      p.port = std::string(tail.substr(1));
    }
  } else {
    auto c = authority.rfind(':');
    p.host = std::string(authority.substr(0, c));
    if (c != std::string_view::npos) p.port = std::string(authority.substr(c + 1));
  }
  if (p.host.empty() || p.port.find_first_not_of("0123456789") != std::string::npos) return p;
  p.ok = true;
  return p;
}

bool is_loopback_redirect(const UriParts& p) {
  return p.scheme == "http" && (p.host == "127.0.0.1" || p.host == "[::1]" || p.host == "localhost");
}

std::string form_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

bool redirect_uri_allowed(const std::vector<std::string>& registered, std::string_view presented) {
  if (presented.empty() || presented.size() > 2048) return false;
  for (const auto& r : registered) {
    if (r == presented) return true;
    UriParts a = split_uri(r), b = split_uri(presented);
    if (a.ok && b.ok && is_loopback_redirect(a) && a.scheme == b.scheme && a.host == b.host && a.rest == b.rest)
      return true;
  }
  return false;
}

std::vector<std::string> chatgpt_callback_uris(const std::string& id) {
  return {"https://chat.openai.com/aip/" + id + "/oauth/callback", "https://chatgpt.com/aip/" + id + "/oauth/callback"};
}

bool is_acceptable_redirect_uri(std::string_view uri) {
  if (uri.size() > 2048 || uri.find_first_of(" \t\r\n\"<>\\^`{|}") != std::string_view::npos) return false;
  if (uri.find('#') != std::string_view::npos) return false;  // RFC 6749 §3.1.2: no fragment
  UriParts p = split_uri(uri);
  if (!p.ok) return false;
  return p.scheme == "https" || is_loopback_redirect(p);
}

std::string uri_host(std::string_view uri) {
  UriParts p = split_uri(uri);
  return p.ok ? p.host + (p.port.empty() ? "" : ":" + p.port) : std::string(uri);
}

Result<std::optional<PresentedClient>, OAuthError> presented_client(
    std::string_view authorization, const std::map<std::string, std::string>& params) {
  using namespace oauth_errors;
  auto param = [&](const char* name) -> std::optional<std::string> {
    auto it = params.find(name);
    if (it == params.end()) return std::nullopt;
    return it->second;
  };
  const bool has_header = !authorization.empty();
  if (has_header) {
    if (authorization.size() < 6 || !std::equal(authorization.begin(), authorization.begin() + 6, "Basic ",
                                                 [](char a, char b) { return std::tolower(a) == std::tolower(b); }))
      return kInvalidClient.with("unsupported client authentication scheme; use Basic");
    std::string_view value = authorization.substr(6);
    std::string decoded(value.size(), '\0');
    size_t len = 0;
    if (sodium_base642bin(reinterpret_cast<unsigned char*>(decoded.data()), decoded.size(), value.data(),
                          value.size(), nullptr, &len, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0)
      return kInvalidClient.with("malformed Basic credentials");
    decoded.resize(len);
    auto colon = decoded.find(':');
    if (colon == std::string::npos) return kInvalidClient.with("malformed Basic credentials");
    // RFC 6749 §2.3.1: both parts are form-encoded before base64.
    PresentedClient c{form_decode(decoded.substr(0, colon)), form_decode(decoded.substr(colon + 1)), true};
    if (param("client_secret")) return kInvalidRequest.with("use one client authentication method, not two");
    if (auto id = param("client_id"); id && *id != c.client_id)
      return kInvalidClient.with("client_id differs from the authenticated client");
    return std::optional<PresentedClient>(c);
  }
  auto id = param("client_id");
  if (!id || id->empty()) return std::optional<PresentedClient>();
  return std::optional<PresentedClient>(PresentedClient{*id, param("client_secret"), false});
}

Result<store::ClientRecord, OAuthError> authenticate_client(const PresentedClient& presented, store::Store& store,
                                                            const CryptoKeys& crypto, int64_t now) {
  using namespace oauth_errors;
  if (presented.client_id.empty() || presented.client_id.size() > 512) return kInvalidClient;
  auto client = store.find_client(presented.client_id);
  if (!client || (client->expires_at && *client->expires_at <= now)) return kInvalidClient.with("unknown client");
  if (client->is_public) {
    if (presented.secret && !presented.secret->empty())
      return kInvalidClient.with("public clients have no secret");
    return *client;
  }
  if (!presented.secret || presented.secret->empty() || !client->secret_hash)
    return kInvalidClient.with("client authentication required");
  if (!constant_time_equal(crypto.hash_secret(*presented.secret), *client->secret_hash))
    return kInvalidClient.with("client authentication failed");
  return *client;
}

}  // namespace plugauth

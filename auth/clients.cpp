#include "auth/clients.h"

#include <algorithm>

#include "auth/base64url.h"
#include "common/url.h"

namespace plugauth {
namespace {

// RFC 8252 §7.3: a loopback redirect URI (plain http on 127.0.0.1, [::1] or
// localhost), whose port the native client picks at run time.
bool is_loopback_redirect(const Url& u) {
  return u.scheme == "http" && (u.host == "127.0.0.1" || u.host == "[::1]" || u.host == "localhost");
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
    const auto a = parse_url(r), b = parse_url(presented);
    if (a && b && is_loopback_redirect(*a) && a->scheme == b->scheme && a->host == b->host && a->path == b->path &&
        a->has_query == b->has_query && a->query == b->query && !a->has_fragment && !b->has_fragment)
      return true;
  }
  return false;
}

std::vector<std::string> connector_callback_uris(std::string_view connector) {
  if (connector == "chatgpt") return {"https://chatgpt.com/connector_platform_oauth_redirect"};
  if (connector == "claude")
    return {"https://claude.ai/api/mcp/auth_callback", "https://claude.com/api/mcp/auth_callback"};
  return {};
}

std::vector<std::string> chatgpt_callback_uris(const std::string& id) {
  return {"https://chat.openai.com/aip/" + id + "/oauth/callback", "https://chatgpt.com/aip/" + id + "/oauth/callback"};
}

bool is_acceptable_redirect_uri(std::string_view uri) {
  if (uri.size() > 2048 || uri.find_first_of(" \t\r\n\"<>\\^`{|}") != std::string_view::npos) return false;
  if (uri.find('#') != std::string_view::npos) return false;  // RFC 6749 §3.1.2: no fragment
  const auto u = parse_url(uri);
  if (!u) return false;
  return u->scheme == "https" || is_loopback_redirect(*u);
}

bool authorize_error_may_redirect(const store::ClientRecord& client) {
  return client.registration == "cli";
}

std::string uri_host(std::string_view uri) {
  const auto u = parse_url(uri);
  if (!u) return std::string(uri);
  return u->port == 0 ? u->host : u->host + ":" + std::to_string(u->port);
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
    const std::optional<std::string> basic = base64_decode(value);
    if (!basic) return kInvalidClient.with("malformed Basic credentials");
    const std::string& decoded = *basic;
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
  if (presented.client_id.empty() || presented.client_id.size() > 512) return oauth_errors::kInvalidClient;
  return authenticate_client(presented, store.find_client(presented.client_id), crypto, now);
}

Result<store::ClientRecord, OAuthError> authenticate_client(const PresentedClient& presented,
                                                            const std::optional<store::ClientRecord>& client,
                                                            const CryptoKeys& crypto, int64_t now) {
  using namespace oauth_errors;
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

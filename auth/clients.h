// OAuth clients: redirect URI matching and client authentication.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "auth/crypto.h"
#include "auth/oauth_error.h"
#include "common/result.h"
#include "store/store.h"

namespace plugauth {

// SPEC §8.4/§8.12: `presented` must equal a registered URI exactly, except
// that for loopback redirect URIs (http://127.0.0.1, http://[::1],
// http://localhost) any port matches (RFC 8252 §7.3).
bool redirect_uri_allowed(const std::vector<std::string>& registered, std::string_view presented);

// The two ChatGPT callback URIs for a GPT or plugin id.
std::vector<std::string> chatgpt_callback_uris(const std::string& id);
// SPEC §4 callback presets: "chatgpt" (ChatGPT apps' stable connector
// callback, used because plugauth advertises RFC 9207 `iss`) and "claude"
// (claude.ai and claude.com); empty for any other name.
std::vector<std::string> connector_callback_uris(std::string_view connector);

// True for https URIs, and http URIs on a loopback host (RFC 8252 §7.3).
bool is_acceptable_redirect_uri(std::string_view uri);

// SPEC §8.8, RFC 9700 §4.11.2: may an /authorize error raised before the
// user approved go back to the client's redirect URI (RFC 6749 §4.1.2.1)?
// Only for clients the operator created. A client that registered itself,
// or is a metadata document, gets an error page instead: otherwise anyone
// could register their own URL and mint links on the plugin's domain that
// land on it (an open redirector for phishing).
bool authorize_error_may_redirect(const store::ClientRecord& client);

// Client credentials as presented at /token, /revoke or /introspect:
// client_secret_basic (Authorization: Basic, RFC 6749 §2.3.1, form-encoded
// id and secret), client_secret_post (body), or none (client_id only).
struct PresentedClient {
  std::string client_id;
  std::optional<std::string> secret;
  bool via_basic = false;
};

// Error if both methods are used, or the header is malformed.
Result<std::optional<PresentedClient>, OAuthError> presented_client(
    std::string_view authorization_header, const std::map<std::string, std::string>& params);

// Checks the presented client against the store: a confidential client must
// present its secret (compared by keyed hash, constant time); a public
// client must not claim one. Errors are invalid_client (401).
Result<store::ClientRecord, OAuthError> authenticate_client(const PresentedClient& presented, store::Store& store,
                                                            const CryptoKeys& crypto, int64_t now);
// The same, with the record the caller already looked up (nullopt: no such
// client).
Result<store::ClientRecord, OAuthError> authenticate_client(const PresentedClient& presented,
                                                            const std::optional<store::ClientRecord>& client,
                                                            const CryptoKeys& crypto, int64_t now);

// The redirect URI's host, for the consent page ("you will be sent to …").
std::string uri_host(std::string_view uri);

}  // namespace plugauth

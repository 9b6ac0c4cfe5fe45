// How an OAuthError (auth/oauth_error.h) goes out over HTTP: RFC 6749 §5.2
// JSON with the status the error carries and the headers the RFCs ask for.
// Every endpoint that answers with an OAuth error renders it here.
#pragma once

#include <string>
#include <string_view>

#include "auth/oauth_error.h"

namespace httplib {
struct Response;
}  // namespace httplib

namespace plugauth::http {

// Status, JSON body, "Pragma: no-cache", "Retry-After" with a 429, and for a
// 401 the challenge given, else RFC 6749 §5.2's Basic one (client
// authentication at /token, /revoke, /introspect).
void send_oauth_error(httplib::Response& res, const OAuthError& e, const std::string& challenge = {});

// An RFC 6750 §3 / RFC 7235 auth-param value: a quoted-string, with '"'
// and '\' escaped and control characters dropped.
std::string quote_param(std::string_view value);

// `Bearer realm="…", error="…", error_description="…"` (RFC 6750 §3).
std::string bearer_challenge(const std::string& realm, const OAuthError& e);

}  // namespace plugauth::http

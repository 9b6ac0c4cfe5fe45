// CORS for the endpoints browser-based OAuth and MCP clients call: the
// metadata documents are public (`*`); /token, /register and /revoke answer
// the origins listed in `cors_origins`. Preflights get 204.
#pragma once

#include "config/config.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace plugauth::http {

// Adds CORS headers when they apply. Returns true when the request was a
// preflight (OPTIONS) that has been answered in full.
bool apply_cors(const httplib::Request& req, httplib::Response& res, const Config& config);

}  // namespace plugauth::http

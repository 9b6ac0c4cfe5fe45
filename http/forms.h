// Request parsing shared by the OAuth and account endpoints: strict form and
// JSON bodies (SPEC §8.11: a repeated parameter, a body that is neither form
// nor JSON, or malformed JSON is 400 invalid_request), cookies, and the
// headers every HTML page carries (SPEC §8.8).
#pragma once

#include <map>
#include <string>

#include "common/result.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace plugauth::http {

using Params = std::map<std::string, std::string>;

// "a=1&b=2" → {a:1, b:2}; error on a repeated name.
Result<Params> parse_form(const std::string& text);
// The query string of the request target (never the body).
Result<Params> query_params(const httplib::Request& req);
// application/x-www-form-urlencoded or application/json (an object whose
// string and number members become parameters; other members are ignored).
Result<Params> body_params(const httplib::Request& req);

std::string cookie(const httplib::Request& req, const std::string& name);
// HttpOnly, SameSite=Lax, Path=/, Secure when `secure`; max_age < 0 deletes.
std::string set_cookie(const std::string& name, const std::string& value, bool secure, long max_age);

// Replaces the default "no-store" every response starts with.
void set_cache_control(httplib::Response& res, const std::string& value);

void page_headers(httplib::Response& res);
void send_page(httplib::Response& res, int status, const std::string& html);

}  // namespace plugauth::http

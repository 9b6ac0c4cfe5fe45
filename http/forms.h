// Request parsing shared by the OAuth and account endpoints: strict form and
// JSON bodies (SPEC §8.11: a repeated parameter, a body that is neither form
// nor JSON, or malformed JSON is 400 invalid_request), cookies, and the
// headers every HTML page carries (SPEC §8.8).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/page_forms.h"
#include "common/result.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace plugauth {
class Sessions;
}

namespace plugauth::http {

using Params = std::map<std::string, std::string>;

// "a=1&b=2" → {a:1, b:2}; error on a repeated name.
Result<Params> parse_form(const std::string& text);
// The value of a field that may appear once (Authorization, Content-Type):
// empty when absent, an error when repeated. httplib's header map keeps no
// order among fields of one name, so which of two it hands back is chance,
// and another reader of the request may take the other one.
Result<std::string> single_field(const httplib::Request& req, const char* name);
// The query string of the request target (never the body).
Result<Params> query_params(const httplib::Request& req);
// application/x-www-form-urlencoded or application/json (an object whose
// string and number members become parameters; other members are ignored).
Result<Params> body_params(const httplib::Request& req);

// Every Cookie header of the request, as sent, for auth/page_forms.h (the
// one reader of the page cookies).
std::vector<std::string_view> cookie_headers(const httplib::Request& req);
// HttpOnly, SameSite=Lax, Path=/, Secure when `secure`; max_age < 0 deletes.
std::string set_cookie(const std::string& name, const std::string& value, bool secure, long max_age);

// Replaces the default "no-store" every response starts with.
void set_cache_control(httplib::Response& res, const std::string& value);

void page_headers(httplib::Response& res);
void send_page(httplib::Response& res, int status, const std::string& html);

// The page cookies of a page request, or nullopt after answering 400 for a
// repeated cookie name (SPEC §8.8: before anything else is read).
std::optional<PageCookies> page_cookies_or_refuse(const httplib::Request& req, httplib::Response& res,
                                                  const PageCookieNames& names);
// The token for the forms of a page shown with `cookies`. A browser with no
// cookie to bind it to gets a fresh pre-session cookie first (`cookies` then
// holds it).
std::string page_form_token(PageCookies& cookies, const PageCookieNames& names, Sessions& sessions,
                            httplib::Response& res);

}  // namespace plugauth::http

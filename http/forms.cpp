#include "http/forms.h"

#include <httplib.h>

#include "auth/sessions.h"
#include "common/json.h"
#include "http/pages.h"

namespace plugauth::http {

Result<Params> parse_form(const std::string& text) {
  Params out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('&', start);
    if (end == std::string::npos) end = text.size();
    std::string pair = text.substr(start, end - start);
    start = end + 1;
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    std::string key = httplib::detail::decode_url(pair.substr(0, eq), true);
    std::string value = eq == std::string::npos ? "" : httplib::detail::decode_url(pair.substr(eq + 1), true);
    if (key.empty()) continue;
    if (!out.emplace(key, value).second) return make_error("parameter \"" + key + "\" is repeated");
  }
  return out;
}

Result<Params> query_params(const httplib::Request& req) {
  auto q = req.target.find('?');
  if (q == std::string::npos) return Params{};
  return parse_form(req.target.substr(q + 1));
}

Result<std::string> single_field(const httplib::Request& req, const char* name) {
  if (req.get_header_value_count(name) > 1) return make_error(std::string("the ") + name + " field is repeated");
  return req.get_header_value(name);
}

Result<Params> body_params(const httplib::Request& req) {
  auto content_type = single_field(req, "Content-Type");
  if (!content_type) return content_type.error();
  std::string type = *content_type;
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  for (auto& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (type == "application/x-www-form-urlencoded") return parse_form(req.body);
  if (type == "application/json") {
    auto parsed = parse_json_strict(req.body);
    if (!parsed) return make_error("malformed JSON body: " + parsed.error().message);
    if (!parsed->is<picojson::object>()) return make_error("the JSON body must be an object");
    Params out;
    for (const auto& [k, v] : parsed->get<picojson::object>()) {
      if (k.empty()) continue;  // as a form's "=x" is skipped: one reading of both bodies
      if (v.is<std::string>()) out[k] = v.get<std::string>();
      else if (v.is<double>()) out[k] = v.to_str();
    }
    return out;
  }
  return make_error("the body must be application/x-www-form-urlencoded or application/json");
}

std::vector<std::string_view> cookie_headers(const httplib::Request& req) {
  std::vector<std::string_view> out;
  auto range = req.headers.equal_range("Cookie");
  for (auto it = range.first; it != range.second; ++it) out.emplace_back(it->second);
  return out;
}

std::string set_cookie(const std::string& name, const std::string& value, bool secure, long max_age) {
  return name + "=" + value + "; Path=/; HttpOnly; SameSite=Lax" + (secure ? "; Secure" : "") +
         "; Max-Age=" + std::to_string(max_age < 0 ? 0 : max_age);
}

void set_cache_control(httplib::Response& res, const std::string& value) {
  res.headers.erase("Cache-Control");
  res.set_header("Cache-Control", value);
}

void page_headers(httplib::Response& res) {
  res.set_header("X-Frame-Options", "DENY");
  res.set_header("Content-Security-Policy",
                 "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'");
  res.set_header("Referrer-Policy", "no-referrer");
}

void send_page(httplib::Response& res, int status, const std::string& html) {
  page_headers(res);
  res.status = status;
  res.set_content(html, "text/html; charset=utf-8");
}

std::optional<PageCookies> page_cookies_or_refuse(const httplib::Request& req, httplib::Response& res,
                                                  const PageCookieNames& names) {
  auto reading = read_page_cookies(cookie_headers(req), names);
  if (reading.repeated_name.empty()) return std::move(reading.cookies);
  send_page(res, 400, pages::repeated_cookie_page(reading.repeated_name));
  return std::nullopt;
}

std::string page_form_token(PageCookies& cookies, const PageCookieNames& names, Sessions& sessions,
                            httplib::Response& res) {
  std::string token = form_token(cookies, sessions.form_key());
  if (!token.empty()) return token;
  cookies.pre_session = sessions.new_pre_session_cookie();
  res.set_header("Set-Cookie", set_cookie(names.pre_session, cookies.pre_session, names.secure, 86400));
  return form_token(cookies, sessions.form_key());
}

}  // namespace plugauth::http

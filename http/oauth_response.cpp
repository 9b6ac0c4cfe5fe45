#include "http/oauth_response.h"

#include <httplib.h>

#include <algorithm>

namespace plugauth::http {

void send_oauth_error(httplib::Response& res, const OAuthError& e, const std::string& challenge) {
  res.status = e.status;
  if (e.status == 401)
    res.set_header("WWW-Authenticate",
                   challenge.empty() ? std::string("Basic realm=\"plugauth\", charset=\"UTF-8\"") : challenge);
  if (e.status == 429) res.set_header("Retry-After", std::to_string(std::max<int64_t>(e.retry_after, 1)));
  res.set_header("Pragma", "no-cache");
  res.set_content(oauth_error_json(e), "application/json");
}

std::string quote_param(std::string_view value) {
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) out += c;
  }
  return out + "\"";
}

std::string bearer_challenge(const std::string& realm, const OAuthError& e) {
  return "Bearer realm=" + quote_param(realm) + ", error=" + quote_param(e.error) +
         ", error_description=" + quote_param(e.description);
}

}  // namespace plugauth::http

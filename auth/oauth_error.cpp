#include "auth/oauth_error.h"

#include "common/json.h"

namespace plugauth {

std::string oauth_error_json(const OAuthError& e) {
  picojson::object o;
  o["error"] = picojson::value(e.error);
  o["error_description"] = picojson::value(e.description);
  return to_json(picojson::value(std::move(o)));
}

}  // namespace plugauth

// The token endpoint's body reader (http/forms.h body_params): a form or a
// JSON body, by Content-Type. It never crashes; a repeated form parameter
// or a body that is neither a form nor a JSON object is an error; and what
// it reads back from a form it wrote itself is what it wrote.
//
// Input: the first byte picks the Content-Type (form, JSON, JSON with a
// charset, another type), the rest is the body.
#include <httplib.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "http/forms.h"

namespace {

std::string form_encode(const plugauth::http::Params& params) {
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out += '&';
    out += httplib::detail::encode_query_param(k) + "=" + httplib::detail::encode_query_param(v);
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 64 * 1024) return 0;
  static const char* const kTypes[] = {"application/x-www-form-urlencoded", "application/json",
                                       "Application/JSON ; charset=utf-8", "text/plain"};
  const int type = data[0] % 4;
  httplib::Request req;
  req.set_header("Content-Type", kTypes[type]);
  req.body.assign(reinterpret_cast<const char*>(data) + 1, size - 1);
  const auto params = plugauth::http::body_params(req);
  if (type == 3 && params) std::abort();
  if (!params) {
    if (params.error().message.empty()) std::abort();
    return 0;
  }
  for (const auto& [k, v] : *params)
    if (k.empty()) std::abort();
  // Written back as a form, the same parameters come back.
  const auto again = plugauth::http::parse_form(form_encode(*params));
  if (!again || *again != *params) std::abort();
  return 0;
}

// The fast-lane request reader (http/plain_get.h) against httplib's own
// process_request: a head the fast lane accepts must reach httplib's /verify
// handler as the same request and get the same answer. Refusing is always
// safe (the head then goes to httplib), so only a disagreement on an
// accepted head is a finding.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "tests/support/httplib_reference.h"

namespace {

void print(const char* who, const plugauth::testing::Seen& s) {
  std::fprintf(stderr, "%s: %s [%s] [%s] %s\n", who, s.method.c_str(), s.target.c_str(), s.path.c_str(),
               s.version.c_str());
  for (const auto& [k, v] : s.params) std::fprintf(stderr, "  param [%s]=[%s]\n", k.c_str(), v.c_str());
  for (const auto& [k, values] : s.headers)
    for (const auto& v : values) std::fprintf(stderr, "  field [%s]: [%s]\n", k.c_str(), v.c_str());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static plugauth::testing::Reference ref;
  std::string head(reinterpret_cast<const char*>(data), size);
  // The loop hands over a head cut at its first blank line.
  const size_t end = head.find("\r\n\r\n");
  if (end == std::string::npos) return 0;
  head.resize(end + 4);
  using plugauth::testing::Agreement;
  const Agreement found = plugauth::testing::check_against_httplib(ref, head);
  if (found != Agreement::Refused && found != Agreement::Same) {
    std::fprintf(stderr, "fast lane and httplib disagree: %s\n",
                 found == Agreement::NotRouted      ? "httplib did not route it"
                 : found == Agreement::OtherRequest ? "httplib's handler saw another request"
                                                    : "the answers differ");
    if (found == Agreement::OtherRequest) {
      plugauth::http::PlainRequest req;
      plugauth::http::parse_plain_get(head, "/verify", req);
      print("fast lane", plugauth::testing::seen(req));
      print("httplib", ref.last);
    }
    std::abort();
  }
  return 0;
}

// The gateway's one reading of the original request path
// (auth/request_path.h). Either way an accepted reading starts with "/" and
// holds no control character. In strict mode it has exactly one meaning:
// no "." or ".." segment, no "//", no "\", ";" or "%" (raw or decoded), and
// reading it again (as a framework that decodes once more would) gives the
// same path. A lower-case route prefix covers it in any letter case
// (path_under_prefix).
//
// Input: the first byte picks the mode, the rest is X-Original-URI.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "auth/request_path.h"

namespace {

bool has_dot_segment(std::string_view p) {
  size_t start = 1;
  while (start <= p.size()) {
    size_t end = p.find('/', start);
    if (end == std::string_view::npos) end = p.size();
    const std::string_view seg = p.substr(start, end - start);
    if (seg == "." || seg == "..") return true;
    start = end + 1;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const bool strict = (data[0] & 1) == 0;
  const std::string_view uri(reinterpret_cast<const char*>(data) + 1, size - 1);
  const plugauth::PathReading r = plugauth::read_request_path(uri, strict);
  if (!r.ok) {
    if (r.problem.empty()) std::abort();
    return 0;
  }
  const std::string& p = r.path;
  if (p.empty() || p[0] != '/') std::abort();
  for (unsigned char c : p)
    if (c < 0x20 || c == 0x7f) std::abort();
  if (strict) {
    if (p.find("//") != std::string::npos || has_dot_segment(p)) std::abort();
    // No "\", ";" or "%" is left, raw or decoded: a framework that decodes
    // once more, or splits path parameters, reads this same path.
    if (p.find_first_of("\\;%") != std::string::npos) std::abort();
    if (p.find_first_of("?#") == std::string::npos) {
      const plugauth::PathReading again = plugauth::read_request_path(p, true);
      if (!again.ok || again.path != p) std::abort();
    }
  }
  // A lower-case prefix taken from the reading covers the reading in any case.
  const size_t cut = p.find('/', 1);
  const std::string prefix(p.substr(0, cut));
  std::string lower = prefix;
  for (char& c : lower)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  if (!plugauth::path_under_prefix(p, lower) || !plugauth::path_under_prefix(p, "/")) std::abort();
  return 0;
}

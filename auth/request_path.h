// The gateway's one reading of the original request path (SPEC §3 `/verify`,
// §8.14), as Envoy's path normalization is the only one its filters see:
// the path a proxy forwards in X-Original-URI / X-Forwarded-Uri is read
// once, here, and route rules then match this reading alone.
//
// Proxies forward that URI raw (nginx's $request_uri), and the plugin behind
// them decodes and normalizes it its own way: Express and Starlette decode
// percent-escapes once, some frameworks resolve "..", some treat ";" as the
// start of path parameters, some compare case-insensitively. A gateway that
// guesses one of those readings lets a request through under the others.
// So in strict mode (the default) whatever the frameworks could read
// differently is refused instead of guessed:
//   - a "." or ".." segment (raw; encoded ones are refused below),
//   - a percent-encoded ".", "/", "\", "%" or ";" (%2e %2f %5c %25 %3b, any case),
//   - a percent-escape that is not two hex digits,
//   - a raw "\" (some servers read it as "/"), a ";" (path parameters),
//   - a control character, raw or percent-encoded (%00-%1f, %7f),
//   - a "#" (a fragment never belongs in a request target),
//   - a path that starts with "//" (a network-path reference: URL parsers
//     read "//host/admin" as host "host" and path "/admin"; refused with
//     strict_paths off too).
// What is left has exactly one reading: the other escapes are decoded once,
// and empty segments ("/a//b") are merged, which only ever makes a rule match
// more requests. An absolute-form URI ("http://host/p?q") counts as its path;
// the query is not part of the path.
//
// With strict_paths off, the path is decoded once and "." / ".." are
// resolved instead (the lenient reading of earlier versions); control
// characters are refused either way.
#pragma once

#include <string>
#include <string_view>

namespace plugauth {

struct PathReading {
  bool ok = false;
  std::string path;     // when ok: starts with "/", decoded once, no query
  std::string problem;  // when not ok: what was ambiguous, safe to send
};

PathReading read_request_path(std::string_view original_uri, bool strict);

// Whether `path` is `prefix` or lies under it on a segment boundary
// ("/admin" covers "/admin" and "/admin/x", not "/adminx"), comparing ASCII
// letters case-insensitively: plugins' routers (Express by default, ASP.NET,
// IIS) often do, so a rule must cover "/Admin" too. `prefix` has no
// trailing "/" except the root, which covers every path.
bool path_under_prefix(std::string_view path, std::string_view prefix);

}  // namespace plugauth

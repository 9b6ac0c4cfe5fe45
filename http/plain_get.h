// The event loop's fast lane for /verify: a strict reader for the one
// request shape a proxy sends on every plugin call, and the writer of its
// response, so that httplib's general parser and writer (about three
// quarters of the CPU time of a /verify request) stay off the hot path.
//
// It is deliberately narrow. parse_plain_get() accepts only a request it can
// read exactly as httplib would:
//   GET <path>[?query] HTTP/1.1, then header fields of RFC 9112 §5 form
//   (a token name, a colon, a value of visible characters, spaces and tabs,
//   obs-text), at most httplib's count and line length, none of the fields
//   httplib itself acts on (Content-Length, Transfer-Encoding, Expect,
//   Range, Upgrade).
// Anything else (another method or version, a fold, a control character,
// a space before the colon, an encoded path, a field above) makes it answer
// false, and the request goes through httplib as before. So the fast lane
// never decides what a request means differently: it is stricter, never
// looser, and what it does read it reads with httplib's own helpers
// (parse_query_text, decode_url), into an httplib::Request.
#pragma once

#include <httplib.h>

#include <string>
#include <string_view>

namespace plugauth::http {

// head: the request line and header fields through the blank line (CRLF
// CRLF). path: the exact path served on the fast lane ("/verify"). Fills
// req's method, target, version, path, params and headers; false when the
// request is not plain (req is then unspecified).
bool parse_plain_get(std::string_view head, std::string_view path, httplib::Request& req);

// Appends res as HTTP/1.1 to out, as httplib's writer would for a response
// with a body in memory: the status line, res.headers, then Connection:
// close or the given Keep-Alive value, Content-Type (text/plain when a body
// has none) and Content-Length, then the body.
void write_plain_response(const httplib::Response& res, bool close_connection, std::string_view keep_alive,
                          std::string& out);

}  // namespace plugauth::http

// The event loop's fast lane for /verify: a strict reader for the one
// request shape a proxy sends on every plugin call, a light request and
// response for the handler, and the writer of that response, so that
// httplib's general parser, header maps and writer (about three quarters of
// the CPU time of a /verify request) stay off the hot path.
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
// (parse_query_text, decode_url, the field-value check).
#pragma once

#include <httplib.h>

#include <cstddef>
#include <forward_list>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace plugauth::http {

// A request as the /verify handler reads it, from either front: the fast
// lane's reader, or httplib's Request (gateway.cpp adapts it).
struct PlainRequest {
  std::string_view method, target, path, remote_addr;
  std::multimap<std::string, std::string> params;  // httplib::Params, decoded as httplib does
  // In request order; names as sent, values percent-decoded as httplib
  // does. Views into the request bytes or into `decoded`.
  std::vector<std::pair<std::string_view, std::string_view>> headers;
  std::forward_list<std::string> decoded;  // storage for decoded values (stable addresses)

  // Header names compare case-insensitively.
  size_t header_count(std::string_view name) const;
  // The first value, or empty.
  std::string_view header(std::string_view name) const;
  // Whether any field `name` has exactly this value.
  bool has_header_value(std::string_view name, std::string_view value) const;
  // The first value of a query parameter, or empty.
  std::string_view param(const std::string& name) const;
};

// A response as the /verify handler writes it.
struct PlainResponse {
  int status = -1;
  // Names are string literals (they must outlive the response).
  std::vector<std::pair<std::string_view, std::string>> headers;
  std::string body;
  std::string_view content_type;  // for a body; a literal

  void set_header(std::string_view name, std::string value) { headers.emplace_back(name, std::move(value)); }
  void set_content(std::string content, std::string_view type) {
    body = std::move(content);
    content_type = type;
  }
};

// The forwarded fields the gateway reads (X-Original-URI, X-Forwarded-*)
// and Cookie: their values are kept exactly as sent, never percent-decoded
// as httplib decodes other field values, so that the gateway reads the
// original path once (auth/request_path.h) and "%2e%2e" stays
// distinguishable from "..", and so that a cookie value a sibling site
// planted ("foo=%3B%20__Host-plugauth_session%3D…") cannot decode into a
// second cookie the pages would read.
bool is_raw_field(std::string_view name);

// For a request httplib parsed: puts back the raw values of the raw fields
// (is_raw_field) from the request head, in place of httplib's decoded ones.
// Several X-Forwarded-For fields become one, their values joined with ", "
// in request order (RFC 9110 §5.3): httplib's header map is an unordered
// multimap that does not keep the order of fields with one name (it gave
// two back reversed: found by tests/fuzz/fuzz_plain_get), and the client's
// address is the rightmost entry a trusted proxy did not add.
void restore_raw_fields(std::string_view head, httplib::Headers& headers);

// SPEC §8.10: why a request head is refused, before anything in it is acted
// on and with the connection closed after the answer; status 0 when it is
// not. `head` runs from the request line through the blank line, or is as
// much of it as has arrived (every refusal below is final once seen).
//   400, ambiguous (two parsers could read different requests from it):
//     - a bare LF or a bare CR (RFC 9112 §2.2);
//     - a folded field line (obs-fold, RFC 9112 §5.2);
//     - Transfer-Encoding beside Content-Length, or a Transfer-Encoding
//       other than "chunked" (RFC 9112 §6.1, §6.3);
//     - a Content-Length that is not one decimal number, or several that
//       differ.
//   400, malformed (httplib would answer 400 and keep reading):
//     - a request line that is not METHOD SP target SP HTTP/1.1 or 1.0,
//       an empty one (a stray CRLF first) included;
//     - a field line without a colon, without a name, with a space or
//       another non-token character in its name (before the colon), or a
//       control character other than HTAB in its value;
//     - an HTTP/1.1 request without Host, or any with two (RFC 9112 §3.2).
//   414: a request line over kMaxLineBytes with its CRLF.
//   431: a field line over kMaxLineBytes with its CRLF, more than kMaxFields
//     fields, or a head over kMaxHeadBytes.
inline constexpr size_t kMaxLineBytes = 8 * 1024;  // httplib's URI and header-line limits
inline constexpr size_t kMaxFields = 100;           // httplib's header count
inline constexpr size_t kMaxHeadBytes = 64 * 1024;  // a proxy's 4 × 8 KiB client head, forwarded, fits
struct HeadRefusal {
  int status = 0;
  const char* message = nullptr;  // a constant
  explicit operator bool() const { return status != 0; }
};
HeadRefusal head_refusal(std::string_view head);

// SPEC §8.10: a body up to this is read; a larger one is 413.
inline constexpr size_t kMaxBodyBytes = 64 * 1024;

// How the body after a head (one head_refusal accepted) is framed.
struct BodyFraming {
  bool chunked = false;           // Transfer-Encoding: chunked
  size_t length = 0;              // Content-Length, else 0
  bool expect = false;            // any Expect field
  bool expects_continue = false;  // Expect: 100-continue
};
BodyFraming body_framing(std::string_view head);

// head: the request line and header fields through the blank line (CRLF
// CRLF). path: the exact path served on the fast lane ("/verify"). Fills
// req's method, target, path, params and headers, with views into head;
// false when the request is not plain (req is then unspecified).
bool parse_plain_get(std::string_view head, std::string_view path, PlainRequest& req);

// Appends res as HTTP/1.1 to out, as httplib's writer would: the status
// line, the headers (one whose value httplib's set_header would refuse is
// left out, as httplib does), then Connection: close or the given
// Keep-Alive value, Content-Type (text/plain when a body has none) and
// Content-Length, then the body.
void write_plain_response(const PlainResponse& res, bool close_connection, std::string_view keep_alive,
                          std::string& out);

}  // namespace plugauth::http

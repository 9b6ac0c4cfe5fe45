#include "http/plain_get.h"

#include <httplib.h>

#include <array>
#include <cstdint>
#include <utility>

namespace plugauth::http {
namespace {

// RFC 9110 §5.6.2 tchar.
constexpr std::array<bool, 256> make_tchar_table() {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
  return t;
}
constexpr std::array<bool, 256> kTchar = make_tchar_table();

bool is_tchar(char c) {
  return kTchar[static_cast<unsigned char>(c)];
}
bool is_space_or_tab(char c) {
  return c == ' ' || c == '\t';
}
// A field value byte (RFC 9110 §5.5): VCHAR, obs-text, SP, HTAB.
bool is_value_byte(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u >= 0x21 && u != 0x7f) || c == ' ' || c == '\t';
}
// A request-target byte: visible ASCII, and no fragment (httplib strips one).
bool is_target_byte(char c) {
  return c >= 0x21 && c <= 0x7e && c != '#';
}

char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// Header names compare case-insensitively (RFC 9110 §5.1), ASCII only.
bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}

// Fields httplib acts on itself (bodies, interim responses, ranges,
// protocol switches): a request carrying one goes through httplib.
bool httplib_acts_on(std::string_view name) {
  static constexpr std::string_view kNames[] = {"content-length", "transfer-encoding", "expect", "range",
                                                "upgrade"};
  for (auto n : kNames)
    if (iequals(name, n)) return true;
  return false;
}

}  // namespace

size_t PlainRequest::header_count(std::string_view name) const {
  size_t n = 0;
  for (const auto& [key, value] : headers)
    if (iequals(key, name)) ++n;
  return n;
}

std::string_view PlainRequest::header(std::string_view name) const {
  for (const auto& [key, value] : headers)
    if (iequals(key, name)) return value;
  return {};
}

bool PlainRequest::has_header_value(std::string_view name, std::string_view value) const {
  for (const auto& [key, v] : headers)
    if (v == value && iequals(key, name)) return true;
  return false;
}

std::string_view PlainRequest::param(const std::string& name) const {
  auto it = params.find(name);
  return it == params.end() ? std::string_view() : std::string_view(it->second);
}

namespace {

// A field line's name (up to the colon, as sent) and its value without the
// spaces and tabs around it; has_colon false when there is no colon.
struct FieldLine {
  std::string_view name, value;
  bool has_colon = false;
};
FieldLine split_field(std::string_view line) {
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return {};
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && is_space_or_tab(value.front())) value.remove_prefix(1);
  while (!value.empty() && is_space_or_tab(value.back())) value.remove_suffix(1);
  return {line.substr(0, colon), value, true};
}

// Calls f(field) for each complete field line of `head` (its request line
// skipped), up to the blank line that ends it.
template <typename F>
void for_each_field(std::string_view head, F&& f) {
  size_t pos = head.find("\r\n");
  if (pos == std::string_view::npos) return;
  for (pos += 2; pos < head.size();) {
    const size_t end = head.find("\r\n", pos);
    if (end == std::string_view::npos) return;
    const std::string_view line = head.substr(pos, end - pos);
    pos = end + 2;
    if (line.empty()) return;
    if (const FieldLine field = split_field(line); field.has_colon) f(field);
  }
}

}  // namespace

bool is_raw_field(std::string_view name) {
  static constexpr std::string_view kNames[] = {"x-original-uri",    "x-forwarded-uri",  "x-original-method",
                                                "x-forwarded-method", "x-forwarded-host", "x-forwarded-proto",
                                                "x-forwarded-for",    "cookie"};
  for (auto n : kNames)
    if (iequals(name, n)) return true;
  return false;
}

void restore_raw_fields(std::string_view head, httplib::Headers& headers) {
  std::vector<std::pair<std::string, std::string>> raw;
  size_t forwarded_for = SIZE_MAX;  // index in `raw` of the first X-Forwarded-For
  for_each_field(head, [&](const FieldLine& f) {
    if (!is_raw_field(f.name)) return;
    if (iequals(f.name, "x-forwarded-for")) {
      if (forwarded_for != SIZE_MAX) {
        raw[forwarded_for].second.append(", ").append(f.value);
        return;
      }
      forwarded_for = raw.size();
    }
    raw.emplace_back(std::string(f.name), std::string(f.value));
  });
  for (auto it = headers.begin(); it != headers.end();)
    it = is_raw_field(it->first) ? headers.erase(it) : std::next(it);
  for (auto& [name, value] : raw) headers.emplace(std::move(name), std::move(value));
}

namespace {

// RFC 9112 §3: method SP request-target SP HTTP-version, the method in
// capitals (httplib knows no other), the target without spaces or controls.
HeadRefusal request_line_refusal(std::string_view line) {
  const size_t sp1 = line.find(' ');
  if (sp1 == 0 || sp1 == std::string_view::npos) return {400, "a malformed request line"};
  for (char c : line.substr(0, sp1))
    if (c < 'A' || c > 'Z') return {400, "a malformed request line"};
  const size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || sp2 == sp1 + 1) return {400, "a malformed request line"};
  for (char c : line.substr(sp1 + 1, sp2 - sp1 - 1))
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return {400, "a malformed request line"};
  const std::string_view version = line.substr(sp2 + 1);
  if (version != "HTTP/1.1" && version != "HTTP/1.0") return {400, "an HTTP version other than 1.1 or 1.0"};
  return {};
}

// RFC 9112 §5.1: a field name is a token right before the colon (no space
// before it); RFC 9110 §5.5: a value has no control character but HTAB.
HeadRefusal field_refusal(std::string_view field) {
  const size_t colon = field.find(':');
  if (colon == std::string_view::npos) return {400, "a header line without a colon"};
  if (colon == 0) return {400, "a header line without a name"};
  for (char c : field.substr(0, colon))
    if (!is_tchar(c)) return {400, "a header name with a space or other character a name cannot have"};
  for (char c : field.substr(colon + 1))
    if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f)
      return {400, "a control character in a header value"};
  return {};
}

}  // namespace

HeadRefusal head_refusal(std::string_view head) {
  for (size_t i = 0; i < head.size(); ++i) {
    if (head[i] == '\n' && (i == 0 || head[i - 1] != '\r')) return {400, "a line ends in a bare LF"};
    if (head[i] == '\r' && i + 1 < head.size() && head[i + 1] != '\n') return {400, "a bare CR in the request head"};
  }
  // A line with its CRLF over 8 KiB: httplib's own limit, so that nothing
  // it would refuse (keeping the connection) reaches it.
  size_t pos = head.find("\r\n");
  if ((pos == std::string_view::npos ? head.size() : pos + 2) > kMaxLineBytes)
    return {414, "request line longer than 8 KiB"};
  if (head.size() > kMaxHeadBytes) return {431, "request head larger than 64 KiB"};
  if (pos == std::string_view::npos) return {};
  const std::string_view request_line = head.substr(0, pos);
  if (auto refusal = request_line_refusal(request_line)) return refusal;
  bool transfer_encoding = false;
  bool complete = false;
  std::string_view content_length;
  size_t fields = 0, hosts = 0;
  for (pos += 2; pos < head.size();) {
    size_t end = head.find("\r\n", pos);
    if (end == std::string_view::npos) {
      // What has come of the line, and its CRLF to come (only the LF when
      // the CR has come: a line of exactly 8 KiB was refused when a read
      // ended between its CR and LF, against fuzz_head_splitter's property).
      const size_t line = head.size() - pos + (head.back() == '\r' ? 1 : 2);
      if (line > kMaxLineBytes) return {431, "a header line longer than 8 KiB"};
      break;  // not all here yet
    }
    const std::string_view field = head.substr(pos, end - pos);
    pos = end + 2;
    if (field.empty()) {
      complete = true;
      break;
    }
    if (field.size() + 2 > kMaxLineBytes) return {431, "a header line longer than 8 KiB"};
    if (++fields > kMaxFields) return {431, "more than 100 header fields"};
    if (is_space_or_tab(field.front())) return {400, "a folded header line"};
    if (auto refusal = field_refusal(field)) return refusal;
    const auto [name, value, has_colon] = split_field(field);
    if (iequals(name, "transfer-encoding")) {
      if (transfer_encoding || !iequals(value, "chunked")) return {400, "a Transfer-Encoding other than chunked"};
      transfer_encoding = true;
    } else if (iequals(name, "content-length")) {
      if (value.empty() || value.size() > 18 || value.find_first_not_of("0123456789") != std::string_view::npos)
        return {400, "a Content-Length that is not a number"};
      if (!content_length.empty() && content_length != value) return {400, "two different Content-Lengths"};
      content_length = value;
    } else if (iequals(name, "host")) {
      ++hosts;
    }
  }
  if (transfer_encoding && !content_length.empty()) return {400, "both Transfer-Encoding and Content-Length"};
  // RFC 9112 §3.2: an HTTP/1.1 request names exactly one Host.
  if (complete && hosts != 1 && request_line.substr(request_line.size() - 8) == "HTTP/1.1")
    return {400, hosts == 0 ? "a request without Host" : "more than one Host"};
  if (complete && hosts > 1) return {400, "more than one Host"};
  return {};
}

BodyFraming body_framing(std::string_view head) {
  BodyFraming framing;
  for_each_field(head, [&](const FieldLine& f) {
    if (iequals(f.name, "transfer-encoding")) {
      framing.chunked = true;
    } else if (iequals(f.name, "content-length")) {
      size_t n = 0;
      for (char ch : f.value) n = n * 10 + static_cast<size_t>(ch - '0');  // digits only: head_refusal checked
      framing.length = n;
    } else if (iequals(f.name, "expect")) {
      framing.expect = true;
      framing.expects_continue = iequals(f.value, "100-continue");
    }
  });
  return framing;
}

bool parse_plain_get(std::string_view head, std::string_view path, PlainRequest& req) {
  constexpr std::string_view kMethod = "GET ", kVersion = " HTTP/1.1\r\n";
  if (head.substr(0, kMethod.size()) != kMethod) return false;
  const size_t line_end = head.find("\r\n");
  if (line_end == std::string_view::npos) return false;
  const std::string_view line = head.substr(0, line_end + 2);
  if (line.size() > CPPHTTPLIB_REQUEST_URI_MAX_LENGTH || line.size() <= kMethod.size() + kVersion.size())
    return false;
  if (line.substr(line.size() - kVersion.size()) != kVersion) return false;
  const std::string_view target = line.substr(kMethod.size(), line.size() - kMethod.size() - kVersion.size());
  for (char c : target)
    if (!is_target_byte(c)) return false;
  if (target.substr(0, path.size()) != path) return false;
  if (target.size() > path.size() && target[path.size()] != '?') return false;

  req.method = "GET";
  req.target = target;
  req.path = target.substr(0, path.size());
  if (target.size() > path.size()) {
    const std::string_view query = target.substr(path.size() + 1);
    httplib::detail::parse_query_text(query.data(), query.size(), req.params);
  }

  size_t count = 0;
  bool connection_seen = false;
  for (size_t pos = line_end + 2;;) {
    const size_t end = head.find("\r\n", pos);
    if (end == std::string_view::npos) return false;
    if (end == pos) return pos + 2 == head.size();  // the blank line ends the head
    if (end + 2 - pos > CPPHTTPLIB_HEADER_MAX_LENGTH || ++count > CPPHTTPLIB_HEADER_MAX_COUNT) return false;
    const std::string_view field = head.substr(pos, end - pos);
    pos = end + 2;

    size_t colon = 0;
    while (colon < field.size() && is_tchar(field[colon])) ++colon;
    if (colon == 0 || colon == field.size() || field[colon] != ':') return false;
    const std::string_view name = field.substr(0, colon);
    if (httplib_acts_on(name)) return false;
    // A second Connection field: httplib heeds only the last (found by
    // fuzz_plain_get: "close" then "keep-alive" kept it open), so httplib
    // decides such a head.
    if (iequals(name, "connection") && std::exchange(connection_seen, true)) return false;
    std::string_view value = field.substr(colon + 1);
    for (char c : value)
      if (!is_value_byte(c)) return false;
    while (!value.empty() && is_space_or_tab(value.front())) value.remove_prefix(1);
    while (!value.empty() && is_space_or_tab(value.back())) value.remove_suffix(1);

    // httplib percent-decodes every field value but these two; the raw
    // fields are restored to their raw values on that path too.
    if (value.find('%') != std::string_view::npos && !iequals(name, "location") &&
        !iequals(name, "referer") && !is_raw_field(name)) {
      req.decoded.push_front(httplib::detail::decode_url(std::string(value), false));
      value = req.decoded.front();
    }
    req.headers.emplace_back(name, value);
  }
}

void write_plain_response(const PlainResponse& res, bool close_connection, std::string_view keep_alive,
                          std::string& out) {
  out += "HTTP/1.1 ";
  out += std::to_string(res.status);
  out += ' ';
  out += httplib::status_message(res.status);
  out += "\r\n";
  for (const auto& [name, value] : res.headers) {
    if (!httplib::detail::fields::is_field_value(value)) continue;  // as httplib's set_header
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  if (close_connection) {
    out += "Connection: close\r\n";
  } else {
    out += "Keep-Alive: ";
    out += keep_alive;
    out += "\r\n";
  }
  if (!res.body.empty()) {
    out += "Content-Type: ";
    out += res.content_type.empty() ? std::string_view("text/plain") : res.content_type;
    out += "\r\n";
  }
  out += "Content-Length: ";
  out += std::to_string(res.body.size());
  out += "\r\n\r\n";
  out += res.body;
}

}  // namespace plugauth::http

#include "auth/request_path.h"

#include <vector>

namespace plugauth {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool is_control(unsigned char c) {
  return c < 0x20 || c == 0x7f;
}

bool istarts_with(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (ascii_lower(s[i]) != prefix[i]) return false;
  return true;
}

PathReading refuse(std::string problem) {
  PathReading r;
  r.problem = std::move(problem);
  return r;
}

// "http://host:port/p?q" → "/p?q"; "http://host" → "/". Other targets as given.
std::string_view strip_absolute_form(std::string_view uri) {
  for (std::string_view scheme : {std::string_view("http://"), std::string_view("https://")}) {
    if (!istarts_with(uri, scheme)) continue;
    const std::string_view rest = uri.substr(scheme.size());
    const size_t path_start = rest.find_first_of("/?#");
    if (path_start == std::string_view::npos) return "/";
    if (rest[path_start] != '/') return {};  // "http://host?q": no path; refused by the caller
    return rest.substr(path_start);
  }
  return uri;
}

// Splits on "/", merging empty segments; resolves "." and ".." when asked.
std::string join_segments(std::string_view decoded, bool resolve_dots) {
  std::vector<std::string_view> segments;
  while (!decoded.empty()) {
    const size_t slash = decoded.find('/');
    const std::string_view seg = decoded.substr(0, slash);
    decoded = slash == std::string_view::npos ? std::string_view() : decoded.substr(slash + 1);
    if (seg.empty()) continue;
    if (resolve_dots && seg == ".") continue;
    if (resolve_dots && seg == "..") {
      if (!segments.empty()) segments.pop_back();
      continue;
    }
    segments.push_back(seg);
  }
  std::string out;
  for (auto seg : segments) {
    out += '/';
    out += seg;
  }
  return out.empty() ? "/" : out;
}

}  // namespace

PathReading read_request_path(std::string_view original_uri, bool strict) {
  if (original_uri.empty()) return refuse("the original URI is empty");
  std::string_view target = strip_absolute_form(original_uri);
  if (strict && target.find('#') != std::string_view::npos)
    return refuse("the original URI has a fragment (#)");
  target = target.substr(0, target.find_first_of("?#"));
  if (target.empty() || target.front() != '/') return refuse("the original URI is not an absolute path");
  // "//host/p" is a network-path reference (RFC 3986 §4.2): the WHATWG URL
  // parser (Node's `new URL(req.url, base)`) and Python's urlsplit read
  // "host" as an authority and "/p" as the path. Two readings: refused.
  if (target.size() > 1 && target[1] == '/') return refuse("the original path starts with \"//\"");

  std::string decoded;
  decoded.reserve(target.size());
  for (size_t i = 0; i < target.size(); ++i) {
    const char c = target[i];
    if (is_control(static_cast<unsigned char>(c))) return refuse("the original path has a control character");
    if (c == '%') {
      const int hi = i + 1 < target.size() ? hex_value(target[i + 1]) : -1;
      const int lo = i + 2 < target.size() ? hex_value(target[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        if (strict) return refuse("the original path has a malformed percent-escape");
        decoded.push_back(c);
        continue;
      }
      const char byte = static_cast<char>(hi * 16 + lo);
      if (is_control(static_cast<unsigned char>(byte)))
        return refuse("the original path has an encoded control character");
      if (strict && (byte == '.' || byte == '/' || byte == '\\' || byte == '%' || byte == ';'))
        return refuse("the original path has an encoded '.', '/', '\\', '%' or ';'");
      decoded.push_back(byte);
      i += 2;
      continue;
    }
    if (strict && c == '\\') return refuse("the original path has a backslash");
    if (strict && c == ';') return refuse("the original path has a ';' (path parameters)");
    decoded.push_back(c);
  }

  if (strict) {
    // Dot segments are looked for in the raw target: an encoded dot was refused above.
    std::string_view rest = target;
    while (!rest.empty()) {
      const size_t slash = rest.find('/');
      const std::string_view seg = rest.substr(0, slash);
      if (seg == "." || seg == "..") return refuse("the original path has a '.' or '..' segment");
      if (slash == std::string_view::npos) break;
      rest = rest.substr(slash + 1);
    }
  }
  PathReading r;
  r.ok = true;
  r.path = join_segments(decoded, !strict);
  return r;
}

bool path_under_prefix(std::string_view path, std::string_view prefix) {
  if (prefix == "/") return true;
  if (path.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (ascii_lower(path[i]) != ascii_lower(prefix[i])) return false;
  return path.size() == prefix.size() || path[prefix.size()] == '/';
}

}  // namespace plugauth

// httplib itself as the reference reader of requests, for the tests that
// hold the event loop's fast lane (http/plain_get.h) to it: the unit test
// tests/unit/plain_get_test.cpp and the fuzz target
// tests/fuzz/fuzz_plain_get.cpp. Every request head the fast lane accepts
// must reach a /verify handler in httplib with the same method, path, query
// parameters and header fields, and its response bytes must say what
// httplib's writer says.
#pragma once

#include <httplib.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/plain_get.h"

namespace plugauth::testing {

using plugauth::http::PlainRequest;
using plugauth::http::PlainResponse;

// A request in memory for httplib to read, and where it writes its answer.
class StringStream final : public httplib::Stream {
 public:
  explicit StringStream(std::string in) : in_(std::move(in)) {}
  bool is_readable() const override { return off_ < in_.size(); }
  bool is_writable() const override { return true; }
  ssize_t read(char* ptr, size_t size) override {
    const size_t n = std::min(size, in_.size() - off_);
    std::memcpy(ptr, in_.data() + off_, n);
    off_ += n;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char* ptr, size_t size) override {
    out.append(ptr, size);
    return static_cast<ssize_t>(size);
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = "127.0.0.1";
    port = 40000;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = "127.0.0.1";
    port = 7070;
  }
  socket_t socket() const override { return 0; }
  std::string out;

 private:
  std::string in_;
  size_t off_ = 0;
};

// What a handler can see of a request, in a comparable form.
// Field names in lower case (their case means nothing); the values of
// fields that share a name sorted, since httplib's header map keeps no order
// among them, except X-Forwarded-For, whose order is the meaning: the fast
// lane's fields joined with ", " in request order must equal the one field
// restore_raw_fields makes of them for httplib.
struct Seen {
  std::string method, path, target, version;
  std::multimap<std::string, std::string> params;
  std::map<std::string, std::vector<std::string>> headers;
  bool operator==(const Seen&) const = default;
};

inline std::string lower_name(std::string_view name) {
  std::string out(name);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

inline void add_field(Seen& s, std::string_view name, std::string_view value) {
  auto& values = s.headers[lower_name(name)];
  if (lower_name(name) == "x-forwarded-for" && !values.empty())
    values.front().append(", ").append(value);
  else
    values.emplace_back(value);
}

inline Seen sorted(Seen s) {
  for (auto& [name, values] : s.headers) std::sort(values.begin(), values.end());
  return s;
}

inline Seen seen(const httplib::Request& req) {
  Seen s{req.method, req.path, req.target, req.version, {req.params.begin(), req.params.end()}, {}};
  // httplib's own pseudo-headers for the peer (StringStream's addresses),
  // which the fast lane omits; one of each. A client's field of the same
  // name is the client's and stays.
  std::map<std::string, std::string> pseudo = {
      {"REMOTE_ADDR", "127.0.0.1"}, {"REMOTE_PORT", "40000"}, {"LOCAL_ADDR", "127.0.0.1"}, {"LOCAL_PORT", "7070"}};
  for (const auto& [name, value] : req.headers) {
    if (auto it = pseudo.find(name); it != pseudo.end() && it->second == value) {
      pseudo.erase(it);
      continue;
    }
    add_field(s, name, value);
  }
  return sorted(std::move(s));
}

inline Seen seen(const PlainRequest& req) {
  Seen s{std::string(req.method), std::string(req.path), std::string(req.target), "HTTP/1.1", req.params, {}};
  for (const auto& [name, value] : req.headers) add_field(s, name, value);
  return sorted(std::move(s));
}

// httplib's Server, with process_request in reach and a /verify route that
// records what it was given and answers like the gateway does; set up as
// the daemon's event server sets it up.
class Reference : public httplib::Server {
 public:
  Reference() {
    auto verify = [this](const httplib::Request& req, httplib::Response& res) {
      last = seen(req);
      routed = true;
      answer(res);
    };
    Get("/verify", verify);
    Post("/verify", verify);
    set_keep_alive_timeout(5);
    set_keep_alive_max_count(100000);
  }
  // The same answer in both forms; the last header has a value httplib's
  // set_header refuses (a response-splitting attempt), so neither writes it.
  static void answer(httplib::Response& res) {
    res.status = 401;
    res.set_header("WWW-Authenticate", "Bearer realm=\"x\", error=\"invalid_token\"");
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("X-Auth-Subject", "a\r\nSet-Cookie: x=1");
    res.set_content(R"({"error":"invalid_token"})", "application/json");
  }
  static void answer(PlainResponse& res) {
    res.status = 401;
    res.set_header("WWW-Authenticate", "Bearer realm=\"x\", error=\"invalid_token\"");
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("X-Auth-Subject", "a\r\nSet-Cookie: x=1");
    res.set_content(R"({"error":"invalid_token"})", "application/json");
  }
  // The response bytes httplib writes for head, or "" when it did not route.
  std::string serve(const std::string& head, bool close) {
    routed = false;
    StringStream strm(head);
    bool closed = false;
    // As the daemon's event server does: the gateway's forwarded fields
    // keep their raw values (http/plain_get.h is_raw_field).
    const std::function<void(httplib::Request&)> keep_raw = [&head](httplib::Request& req) {
      plugauth::http::restore_raw_fields(head, req.headers);
    };
    process_request(strm, "127.0.0.1", 40000, "127.0.0.1", 7070, close, closed, keep_raw);
    return routed ? strm.out : std::string();
  }
  Seen last;
  bool routed = false;
};

// A response as a status line, a sorted list of header lines and a body:
// header order carries no meaning and differs between the two writers.
struct Parsed {
  std::string status_line, body;
  std::vector<std::string> fields;
  bool operator==(const Parsed&) const = default;
};

// nullopt when the bytes hold no complete head.
inline std::optional<Parsed> parse_response(const std::string& bytes) {
  Parsed p;
  const size_t head_end = bytes.find("\r\n\r\n");
  if (head_end == std::string::npos) return std::nullopt;
  size_t pos = bytes.find("\r\n");
  p.status_line = bytes.substr(0, pos);
  for (pos += 2; pos < head_end + 2;) {
    const size_t end = bytes.find("\r\n", pos);
    p.fields.push_back(bytes.substr(pos, end - pos));
    pos = end + 2;
  }
  std::sort(p.fields.begin(), p.fields.end());
  p.body = bytes.substr(head_end + 4);
  return p;
}

// What check_against_httplib found.
enum class Agreement {
  Refused,        // the fast lane left the head to httplib (always safe)
  Same,           // accepted, and httplib read and answered it the same way
  NotRouted,      // accepted, but httplib did not reach the handler
  OtherRequest,   // accepted, but httplib's handler saw another request
  OtherResponse,  // accepted, but the two writers' answers differ
};

// Accepted by the fast lane: then httplib must have seen the same request
// and written the same answer.
inline Agreement check_against_httplib(Reference& ref, const std::string& head) {
  PlainRequest req;
  if (!plugauth::http::parse_plain_get(head, "/verify", req)) return Agreement::Refused;
  const std::string reference = ref.serve(head, false);
  if (!ref.routed) return Agreement::NotRouted;
  if (!(seen(req) == ref.last)) return Agreement::OtherRequest;
  PlainResponse res;
  Reference::answer(res);
  std::string ours;
  plugauth::http::write_plain_response(res, req.has_header_value("Connection", "close"), "timeout=5, max=100000",
                                       ours);
  const auto a = parse_response(ours), b = parse_response(reference);
  if (!a || !b || !(*a == *b) || ours.find("Set-Cookie") != std::string::npos) return Agreement::OtherResponse;
  return Agreement::Same;
}

}  // namespace plugauth::testing

// The event loop's fast lane (http/plain_get.h) against httplib itself:
// every request head the fast lane accepts must reach a /verify handler in
// httplib with the same method, path, query parameters and header fields,
// and its response bytes must say what httplib's writer says. Heads it
// refuses go to httplib unchanged, so refusing is always safe; accepting
// something httplib would read differently is the bug these tests hunt.
#include "http/plain_get.h"

#include <httplib.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

using plugauth::http::parse_plain_get;
using plugauth::http::PlainRequest;
using plugauth::http::PlainResponse;
using plugauth::http::write_plain_response;
using namespace std::string_literals;

namespace {

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
struct Seen {
  std::string method, path, target, version;
  std::multimap<std::string, std::string> params, headers;
  bool operator==(const Seen&) const = default;
};

Seen seen(const httplib::Request& req) {
  Seen s{req.method, req.path, req.target, req.version, {req.params.begin(), req.params.end()}, {}};
  for (const auto& [name, value] : req.headers) {
    // httplib's own pseudo-headers for the peer, which the fast lane omits.
    if (name == "REMOTE_ADDR" || name == "REMOTE_PORT" || name == "LOCAL_ADDR" || name == "LOCAL_PORT")
      continue;
    s.headers.emplace(name, value);
  }
  return s;
}

Seen seen(const PlainRequest& req) {
  Seen s{std::string(req.method), std::string(req.path), std::string(req.target), "HTTP/1.1", req.params, {}};
  for (const auto& [name, value] : req.headers) s.headers.emplace(name, value);
  return s;
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

Parsed parse_response(const std::string& bytes) {
  Parsed p;
  const size_t head_end = bytes.find("\r\n\r\n");
  REQUIRE(head_end != std::string::npos);
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

// Accepted by the fast lane: then httplib must have seen the same request.
// Returns whether it was accepted.
bool check_against_httplib(Reference& ref, const std::string& head) {
  PlainRequest req;
  if (!parse_plain_get(head, "/verify", req)) return false;
  const std::string reference = ref.serve(head, false);
  INFO("head: " << head);
  REQUIRE(ref.routed);
  CHECK(seen(req) == ref.last);
  PlainResponse res;
  Reference::answer(res);
  std::string ours;
  write_plain_response(res, req.has_header_value("Connection", "close"), "timeout=5, max=100000", ours);
  CHECK(parse_response(ours) == parse_response(reference));
  CHECK(ours.find("Set-Cookie") == std::string::npos);
  return true;
}

const std::string kProxyHead =
    "GET /verify?scope=read%3Aall+write&resource=https%3A%2F%2Fapi.example HTTP/1.1\r\n"
    "Host: 127.0.0.1:7070\r\n"
    "X-Original-URI: /api/items%2F7?q=a%20b\r\n"
    "X-Original-Method: DELETE\r\n"
    "Authorization:\tBearer pa_key_abc.def-ghi_123   \r\n"
    "Referer: https://chat.example/%7Euser\r\n"
    "X-Api-Key: k%41y\r\n"
    "Accept: */*\r\n"
    "Connection: keep-alive\r\n"
    "\r\n";

}  // namespace

TEST_CASE("plain GETs the fast lane accepts reach httplib's handler identically, and get the same response") {
  Reference ref;
  const std::vector<std::string> heads = {
      "GET /verify HTTP/1.1\r\n\r\n",
      "GET /verify HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer x\r\n\r\n",
      "GET /verify? HTTP/1.1\r\nHost: a\r\n\r\n",
      "GET /verify?scope=a&scope=b&scope=a&=x&y HTTP/1.1\r\nHost: a\r\n\r\n",
      "GET /verify HTTP/1.1\r\nConnection: close\r\nX-Empty:\r\nX-Spaces:    \r\n\r\n",
      "GET /verify HTTP/1.1\r\nX-Dup: 1\r\nx-dup: 2\r\nX-Obs: caf\xc3\xa9\r\n\r\n",
      kProxyHead,
  };
  for (const auto& head : heads) CHECK(check_against_httplib(ref, head));
}

TEST_CASE("the fast lane refuses what it cannot read exactly as httplib would, leaving it to httplib") {
  const std::vector<std::string> heads = {
      "HEAD /verify HTTP/1.1\r\n\r\n",
      "GET\r\n\r\n",
      "GET /\r\n\r\n",
      "GET HTTP/1.1\r\n\r\n",
      "GET  HTTP/1.1\r\n\r\n",
      "GET / HTTP/1.1\r\n\r\n",
      "GET /verify\r\n\r\n",
      "POST /verify HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
      "GET /verify HTTP/1.0\r\n\r\n",
      "GET /verify  HTTP/1.1\r\n\r\n",
      "GET  /verify HTTP/1.1\r\n\r\n",
      "GET /verify/batch HTTP/1.1\r\n\r\n",
      "GET /verifyx HTTP/1.1\r\n\r\n",
      "GET /%76erify HTTP/1.1\r\n\r\n",
      "GET /verify#frag HTTP/1.1\r\n\r\n",
      "GET /verify?a=\x01 HTTP/1.1\r\n\r\n",
      "GET http://host/verify HTTP/1.1\r\n\r\n",
      "GET /verify HTTP/1.1\r\nHost : a\r\n\r\n",
      "GET /verify HTTP/1.1\r\n Folded: a\r\n\r\n",
      "GET /verify HTTP/1.1\r\nA: b\r\n c\r\n\r\n",
      "GET /verify HTTP/1.1\r\nNo-Colon\r\n\r\n",
      "GET /verify HTTP/1.1\r\n: empty-name\r\n\r\n",
      "GET /verify HTTP/1.1\r\nBad\x01Name: a\r\n\r\n",
      "GET /verify HTTP/1.1\r\nA: b\x7f\r\n\r\n",
      "GET /verify HTTP/1.1\r\nA: b\nC: d\r\n\r\n",
      "GET /verify HTTP/1.1\r\nA: b\rC: d\r\n\r\n",
      "GET /verify HTTP/1.1\r\nA: b\0c\r\n\r\n"s,  // a NUL inside the value
      "GET /verify HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
      "GET /verify HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n",
      "GET /verify HTTP/1.1\r\nExpect: 100-continue\r\n\r\n",
      "GET /verify HTTP/1.1\r\nRange: bytes=0-1\r\n\r\n",
      "GET /verify HTTP/1.1\r\nUpgrade: websocket\r\n\r\n",
      "GET /verify HTTP/1.1\r\n\r\nGET /verify HTTP/1.1\r\n\r\n",
      "GET /verify HTTP/1.1\r\nA: b\r\n",
      std::string("GET /verify?") + std::string(9000, 'a') + " HTTP/1.1\r\n\r\n",
      "GET /verify HTTP/1.1\r\nA: " + std::string(9000, 'a') + "\r\n\r\n",
  };
  for (const auto& head : heads) {
    PlainRequest req;
    INFO("head: " << head);
    CHECK_FALSE(parse_plain_get(head, "/verify", req));
  }
  std::string many = "GET /verify HTTP/1.1\r\n";
  for (int i = 0; i < 101; ++i) many += "X-H" + std::to_string(i) + ": v\r\n";
  PlainRequest req;
  CHECK_FALSE(parse_plain_get(many + "\r\n", "/verify", req));
}

TEST_CASE("mutated proxy requests: whenever the fast lane accepts one, httplib reads it the same way") {
  // Single-byte changes to a realistic head, drawn from the bytes that
  // matter to HTTP parsing; fixed seed, so a failure reproduces.
  Reference ref;
  const std::string alphabet = std::string(" \t\r\n:%+?&=#/\\\"',;\x00\x01\x7f\x80\xff", 22) + "aZ09-_.~";
  std::mt19937 rng(20261122);
  int accepted = 0, refused = 0;
  for (int i = 0; i < 4000; ++i) {
    std::string head = kProxyHead;
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      // Keep the final blank line: the loop hands over complete heads only.
      const size_t at = rng() % (head.size() - 4);
      const char c = alphabet[rng() % alphabet.size()];
      switch (rng() % 3) {
        case 0:
          head[at] = c;
          break;
        case 1:
          head.insert(head.begin() + static_cast<long>(at), c);
          break;
        default:
          head.erase(at, 1);
          break;
      }
    }
    // The loop cuts a head at its first blank line.
    head = head.substr(0, head.find("\r\n\r\n") + 4);
    if (check_against_httplib(ref, head))
      ++accepted;
    else
      ++refused;
  }
  // Both branches were exercised.
  CHECK(accepted > 100);
  CHECK(refused > 100);
}

TEST_CASE("the gateway's forwarded fields and Cookie reach handlers raw on both fronts, never percent-decoded") {
  const std::string head =
      "GET /verify HTTP/1.1\r\nHost: x\r\nX-Original-URI: /admin/%2e%2e/public\r\n"
      "X-Forwarded-Uri: /a%2Fb\r\nX-Forwarded-Host: a%2etest\r\nX-Api-Key: k%41y\r\n"
      "Cookie: foo=%3B%20plugauth_session%3Dx\r\n\r\n";
  PlainRequest fast;
  REQUIRE(parse_plain_get(head, "/verify", fast));
  CHECK(fast.header("X-Original-URI") == "/admin/%2e%2e/public");
  CHECK(fast.header("X-Forwarded-Uri") == "/a%2Fb");
  CHECK(fast.header("X-Forwarded-Host") == "a%2etest");
  CHECK(fast.header("X-Api-Key") == "kAy");  // other fields: decoded, as httplib does
  CHECK(fast.header("Cookie") == "foo=%3B%20plugauth_session%3Dx");
  Reference ref;
  REQUIRE_FALSE(ref.serve(head, true).empty());
  CHECK(seen(fast) == ref.last);
  // And through httplib for a request the fast lane leaves to it (a POST).
  const std::string post =
      "POST /verify HTTP/1.1\r\nHost: x\r\nX-Original-URI: /admin/%2e%2e/public\r\nContent-Length: 0\r\n\r\n";
  REQUIRE_FALSE(ref.serve(post, true).empty());
  CHECK(ref.last.headers.find("X-Original-URI")->second == "/admin/%2e%2e/public");
}

// --- SPEC §8.10: heads two parsers could read differently are refused ----------

TEST_CASE("a head with a bare LF is refused: the loop and httplib would split it differently") {
  using plugauth::http::head_refusal;
  CHECK(head_refusal("POST /verify HTTP/1.1\r\nX: a\nContent-Length: 40\r\n\r\n").status == 400);
  CHECK(head_refusal("GET /verify HTTP/1.1\nHost: a\n\n").status == 400);
  CHECK(head_refusal("GET /verify HTTP/1.1\r\nHost: a\n").status == 400);  // not all here, and already final
  CHECK(head_refusal("\nGET / HTTP/1.1\r\n\r\n").status == 400);
}

TEST_CASE("a head with a bare CR or a folded line is refused") {
  using plugauth::http::head_refusal;
  CHECK(head_refusal("GET /verify HTTP/1.1\r\nX: a\rContent-Length: 4\r\n\r\n").status == 400);
  CHECK(head_refusal("GET /verify HTTP/1.1\r\nX: a\r\n b\r\n\r\n").status == 400);
  CHECK(head_refusal("GET /verify HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n").status == 400);
  // A CR that is the last byte so far may still be followed by its LF.
  CHECK(head_refusal("GET /verify HTTP/1.1\r\nHost: a\r").status == 0);
}

TEST_CASE("Transfer-Encoding beside Content-Length, or other than chunked, is refused") {
  using plugauth::http::head_refusal;
  CHECK(head_refusal("POST /token HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n").status == 400);
  CHECK(head_refusal("POST /token HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n").status == 400);
  CHECK(head_refusal("POST /token HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n").status == 400);
  CHECK(head_refusal("POST /token HTTP/1.1\r\nTransfer-Encoding: identity\r\n\r\n").status == 400);
  CHECK(head_refusal("POST /token HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n")
            .status == 400);
  CHECK(head_refusal("POST /token HTTP/1.1\r\nHost: a\r\ntransfer-encoding:  Chunked \r\n\r\n").status == 0);
}

TEST_CASE("a Content-Length that is not one decimal number is refused") {
  using plugauth::http::head_refusal;
  CHECK(head_refusal("POST /t HTTP/1.1\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\n").status == 400);
  CHECK(head_refusal("POST /t HTTP/1.1\r\nContent-Length: 4, 4\r\n\r\n").status == 400);
  CHECK(head_refusal("POST /t HTTP/1.1\r\nContent-Length: +4\r\n\r\n").status == 400);
  CHECK(head_refusal("POST /t HTTP/1.1\r\nContent-Length: -1\r\n\r\n").status == 400);
  CHECK(head_refusal("POST /t HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n").status == 400);
  CHECK(head_refusal("POST /t HTTP/1.1\r\nContent-Length:\r\n\r\n").status == 400);
  CHECK(head_refusal("POST /t HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n").status == 400);
  CHECK(head_refusal("POST /t HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nContent-Length: 4\r\n\r\n").status == 0);
  CHECK(head_refusal("POST /t HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n\r\n").status == 0);
}

TEST_CASE("a request line over 8 KiB is 414, a header line over 8 KiB or 101 fields is 431, even before the head ends") {
  using plugauth::http::head_refusal;
  const std::string long_target(9000, 'a');
  CHECK(head_refusal("GET /" + long_target).status == 414);
  CHECK(head_refusal("GET /" + long_target + " HTTP/1.1\r\n\r\n").status == 414);
  const std::string long_value(9000, 'v');
  CHECK(head_refusal("GET / HTTP/1.1\r\nCookie: " + long_value).status == 431);
  CHECK(head_refusal("GET / HTTP/1.1\r\nCookie: " + long_value + "\r\n\r\n").status == 431);
  std::string many = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 101; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
  CHECK(head_refusal(many + "\r\n").status == 431);
  std::string big = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 9; ++i) big += "X-" + std::to_string(i) + ": " + std::string(8000, 'v') + "\r\n";
  CHECK(head_refusal(big).status == 431);  // 72 KB, no end yet
  std::string fits = "GET / HTTP/1.1\r\nHost: a\r\n";
  for (int i = 0; i < 7; ++i) fits += "X-" + std::to_string(i) + ": " + std::string(8000, 'v') + "\r\n";
  CHECK(head_refusal(fits + "\r\n").status == 0);  // 56 KB: a proxy's forwarded head fits
  // httplib's limits count the CRLF: a line of 8191 bytes and its CRLF is
  // over them, so it is refused here, with the close, not by httplib.
  CHECK(head_refusal("GET / HTTP/1.1\r\nX: " + std::string(8188, 'v') + "\r\n\r\n").status == 431);
  CHECK(head_refusal("GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(8187, 'v') + "\r\n\r\n").status == 0);
  CHECK(head_refusal("GET /" + std::string(8177, 'a') + " HTTP/1.1\r\n").status == 414);  // 8,193 with CRLF
  CHECK(head_refusal("GET /" + std::string(8176, 'a') + " HTTP/1.1\r\n").status == 0);
}

TEST_CASE("a head httplib would answer 400 and keep reading is refused here, with the close (RFC 9112)") {
  using plugauth::http::head_refusal;
  // Whitespace before the colon: a proxy may read "Content-Length : 45" as
  // a length, httplib as a field of another name (RFC 9112 §5.1: 400).
  CHECK(head_refusal("POST /token HTTP/1.1\r\nHost: a\r\nContent-Length : 45\r\n\r\n").status == 400);
  CHECK(head_refusal("POST /token HTTP/1.1\r\nHost: a\r\nTransfer-Encoding\t: chunked\r\n\r\n").status == 400);
  CHECK(head_refusal("GET / HTTP/1.1\r\nHost: a\r\nno colon here\r\n\r\n").status == 400);
  CHECK(head_refusal("GET / HTTP/1.1\r\nHost: a\r\n: empty name\r\n\r\n").status == 400);
  static const char kNul[] = "GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n";
  CHECK(head_refusal(std::string(kNul, sizeof kNul - 1)).status == 400);
  CHECK(head_refusal("GET / HTTP/1.1\r\nHost: a\r\nX: a\x1b[2Jb\r\n\r\n").status == 400);
  CHECK(head_refusal("GET / HTTP/1.1\r\nHost: a\r\nX: a\tb \xe2\x80\xae\r\n\r\n").status == 0);  // HTAB, obs-text
  // The request line.
  CHECK(head_refusal("\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n").status == 400);  // a stray CRLF first
  CHECK(head_refusal("get / HTTP/1.1\r\nHost: a\r\n\r\n").status == 400);
  CHECK(head_refusal("GET / HTTP/2.0\r\nHost: a\r\n\r\n").status == 400);
  CHECK(head_refusal("GET  / HTTP/1.1\r\nHost: a\r\n\r\n").status == 400);
  CHECK(head_refusal("GET / x HTTP/1.1\r\nHost: a\r\n\r\n").status == 400);
  CHECK(head_refusal("GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n").status == 400);
  CHECK(head_refusal("GET / HTTP/1.1 \r\nHost: a\r\n\r\n").status == 400);
  // Host: exactly one in HTTP/1.1 (RFC 9112 §3.2); none needed in 1.0.
  CHECK(head_refusal("GET / HTTP/1.1\r\n\r\n").status == 400);
  CHECK(head_refusal("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n").status == 400);
  CHECK(head_refusal("GET / HTTP/1.0\r\n\r\n").status == 0);
  CHECK(head_refusal("GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n").status == 400);
  CHECK(head_refusal("GET / HTTP/1.1\r\n").status == 0);  // not all here: Host may come
}

TEST_CASE("an ordinary head has no problem") {
  using plugauth::http::head_refusal;
  CHECK(head_refusal("GET /verify HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer x\r\n\r\n").status == 0);
  CHECK(head_refusal("GET /verify HTTP/1.1\r\n").status == 0);
  CHECK(head_refusal("").status == 0);
}

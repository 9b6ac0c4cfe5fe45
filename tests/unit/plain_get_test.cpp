// The event loop's fast lane (http/plain_get.h) against httplib itself:
// every request head the fast lane accepts must reach a /verify handler in
// httplib with the same method, path, query parameters and header fields,
// and its response bytes must say what httplib's writer says. Heads it
// refuses go to httplib unchanged, so refusing is always safe; accepting
// something httplib would read differently is the bug these tests hunt.
#include "http/plain_get.h"
#include "tests/support/httplib_reference.h"

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

using plugauth::testing::Agreement;
using plugauth::testing::Reference;
using plugauth::testing::seen;

// Accepted by the fast lane: then httplib must have seen the same request.
// Returns whether it was accepted.
bool accepted_same_as_httplib(Reference& ref, const std::string& head) {
  INFO("head: " << head);
  const Agreement found = plugauth::testing::check_against_httplib(ref, head);
  CHECK((found == Agreement::Refused || found == Agreement::Same));
  return found != Agreement::Refused;
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
  for (const auto& head : heads) CHECK(accepted_same_as_httplib(ref, head));
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
    if (accepted_same_as_httplib(ref, head))
      ++accepted;
    else
      ++refused;
  }
  // Both branches were exercised.
  CHECK(accepted > 100);
  CHECK(refused > 100);
}

TEST_CASE("several X-Forwarded-For fields reach httplib's handlers as one, in request order (fuzz_plain_get)") {
  // httplib's header map is unordered among fields of one name: it gave
  // these two back reversed, and the client's address is the rightmost entry.
  const std::string head =
      "POST /token HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.50\r\nX-A: 1\r\n"
      "x-forwarded-for: 203.0.113.51, 203.0.113.52\r\nX-Forwarded-For: 198.51.100.60\r\nX-A: 2\r\n\r\n";
  httplib::Headers headers{{"X-Forwarded-For", "decoded"}, {"X-A", "1"}};
  plugauth::http::restore_raw_fields(head, headers);
  REQUIRE(headers.count("X-Forwarded-For") == 1);
  CHECK(headers.find("X-Forwarded-For")->second == "203.0.113.50, 203.0.113.51, 203.0.113.52, 198.51.100.60");
  CHECK(headers.count("X-A") == 1);  // other fields are httplib's as they were
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
  CHECK(ref.last.headers.at("x-original-uri") == std::vector<std::string>{"/admin/%2e%2e/public"});
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
  // A line of exactly 8 KiB with its CRLF, cut by a read between CR and LF,
  // is not refused before its LF comes (fuzz_head_splitter's property).
  const std::string at_limit = "GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(8187, 'v');
  CHECK(head_refusal(at_limit + "\r").status == 0);
  CHECK(head_refusal(at_limit + "\r\n\r\n").status == 0);
  CHECK(head_refusal(at_limit + "v\r").status == 431);
}

TEST_CASE("the fast lane leaves a head with two Connection fields to httplib, which heeds the last (fuzz_plain_get)") {
  PlainRequest req;
  CHECK_FALSE(parse_plain_get("GET /verify HTTP/1.1\r\nHost: a\r\nConnection: close\r\nConnection: keep-alive\r\n\r\n",
                              "/verify", req));
  CHECK(parse_plain_get("GET /verify HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", "/verify", req));
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

// The gateway's security predicates, each on its own and named for the rule
// it enforces (SPEC §3 /verify, §8.14): the path reader, the route and
// resource matchers, the URL reader, the client-address reader, and the
// decision that puts them together. Hostile inputs are the point: every
// case below is a request some proxy or plugin reads differently.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "auth/clients.h"
#include "auth/gateway_decision.h"
#include "auth/request_path.h"
#include "auth/routes.h"
#include "common/url.h"
#include "http/address_matcher.h"

using namespace plugauth;

namespace {

std::string read_ok(std::string_view uri, bool strict = true) {
  const PathReading r = read_request_path(uri, strict);
  INFO("uri: " << uri << " problem: " << r.problem);
  REQUIRE(r.ok);
  return r.path;
}

bool refused(std::string_view uri, bool strict = true) {
  const PathReading r = read_request_path(uri, strict);
  if (r.ok) return false;
  CHECK_FALSE(r.problem.empty());
  return true;
}

RouteRule rule(std::string prefix, std::vector<std::string> scopes, std::vector<std::string> methods = {}) {
  RouteRule r;
  r.prefix = std::move(prefix);
  r.scopes = std::move(scopes);
  r.methods = std::move(methods);
  return r;
}

}  // namespace

// --- the path reader ---------------------------------------------------------

TEST_CASE("the path reader refuses a dot segment, raw or at the end (a backend would resolve it)") {
  CHECK(refused("/admin/../public"));
  CHECK(refused("/public/../admin"));
  CHECK(refused("/admin/./users"));
  CHECK(refused("/admin/.."));
  CHECK(refused("/."));
  CHECK(refused("/a/b/..?x=1"));
}

TEST_CASE("the path reader refuses a percent-encoded dot, slash, backslash or percent, in any case") {
  CHECK(refused("/admin/%2e%2e/public"));
  CHECK(refused("/admin/%2E%2E/public"));
  CHECK(refused("/admin/..%2fpublic"));
  CHECK(refused("/admin/..%2Fpublic"));
  CHECK(refused("/public%2f..%2fadmin"));
  CHECK(refused("/admin%5cusers"));
  CHECK(refused("/%2561dmin"));  // "%61" after one decoding: decoded twice, "/admin"
  CHECK(refused("/%2e/admin"));
  CHECK(refused("/admin/.%2e/public"));
}

TEST_CASE("the path reader refuses a path that starts with two slashes, even when not strict") {
  // new URL("//h/admin", "http://x").pathname is "/admin"; so is Python's urlsplit.
  for (bool strict : {true, false}) {
    CHECK(refused("//h/admin", strict));
    CHECK(refused("//evil.example/admin", strict));
    CHECK(refused("//admin", strict));
    CHECK(refused("http://plugin.test//h/admin", strict));
  }
}

TEST_CASE("the path reader refuses a percent-encoded semicolon") {
  CHECK(refused("/admin%3Bx"));
  CHECK(refused("/admin%3b"));
}

TEST_CASE("the path reader refuses a raw backslash, a semicolon and a fragment") {
  CHECK(refused("/admin\\..\\public"));
  CHECK(refused("/public\\admin"));
  CHECK(refused("/admin;x=1/users"));
  CHECK(refused("/admin;"));
  CHECK(refused("/public#/../admin"));
}

TEST_CASE("the path reader refuses control characters, raw or encoded, even when not strict") {
  for (bool strict : {true, false}) {
    CHECK(refused(std::string("/admin\x01x"), strict));
    CHECK(refused(std::string("/admin\tx"), strict));
    CHECK(refused(std::string("/adm\x7fin"), strict));
    CHECK(refused("/admin%00/x", strict));
    CHECK(refused("/admin%0a", strict));
    CHECK(refused("/admin%7F", strict));
  }
}

TEST_CASE("the path reader refuses a malformed percent-escape") {
  CHECK(refused("/admin%"));
  CHECK(refused("/admin%2"));
  CHECK(refused("/admin%zz/x"));
  CHECK(refused("/%u0061dmin"));
}

TEST_CASE("the path reader refuses what is not an absolute path") {
  CHECK(refused(""));
  CHECK(refused("admin"));
  CHECK(refused("*"));
  CHECK(refused("?x=/admin"));
  CHECK(refused("http://host?x"));
}

TEST_CASE("the path reader decodes other escapes once, so an encoded letter is the letter") {
  CHECK(read_ok("/%61dmin/users") == "/admin/users");
  CHECK(read_ok("/caf%C3%A9") == "/caf\xC3\xA9");
  CHECK(read_ok("/a%20b") == "/a b");
}

TEST_CASE("the path reader drops the query and merges empty segments") {
  CHECK(read_ok("/admin?x=/../public") == "/admin");
  CHECK(read_ok("/admin//users/") == "/admin/users");
  CHECK(read_ok("/") == "/");
  CHECK(read_ok("/?a=b") == "/");
  CHECK(read_ok("/admin/...") == "/admin/...");  // three dots are a name, not a dot segment
  CHECK(read_ok("/.well-known/x") == "/.well-known/x");
}

TEST_CASE("the path reader reads an absolute-form URI as its path") {
  CHECK(read_ok("http://plugin.test/admin/users?x=1") == "/admin/users");
  CHECK(read_ok("HTTPS://plugin.test:8443/admin") == "/admin");
  CHECK(read_ok("https://plugin.test") == "/");
  CHECK(refused("https://plugin.test/admin/../public"));
}

TEST_CASE("with strict_paths off the path reader decodes once and resolves dot segments") {
  CHECK(read_ok("/admin/../public", false) == "/public");
  CHECK(read_ok("/public/%2e%2e/admin", false) == "/admin");
  CHECK(read_ok("/admin;x=1", false) == "/admin;x=1");
  CHECK(read_ok("/../../admin", false) == "/admin");
}

TEST_CASE("a prefix covers whole segments only, comparing letters case-insensitively") {
  CHECK(path_under_prefix("/admin", "/admin"));
  CHECK(path_under_prefix("/admin/x", "/admin"));
  CHECK(path_under_prefix("/Admin/users", "/admin"));
  CHECK(path_under_prefix("/ADMIN", "/admin"));
  CHECK_FALSE(path_under_prefix("/adminx", "/admin"));
  CHECK_FALSE(path_under_prefix("/adm", "/admin"));
  CHECK_FALSE(path_under_prefix("/public/admin", "/admin"));
  CHECK(path_under_prefix("/anything", "/"));
}

// --- the route matcher -------------------------------------------------------

TEST_CASE("a route rule matches its prefix case-insensitively") {
  const std::vector<RouteRule> rules = {rule("/admin", {"admin"})};
  CHECK(required_scopes_for(rules, "/Admin/users", "GET") == ScopeSet{"admin"});
  CHECK(required_scopes_for(rules, "/ADMIN", "GET") == ScopeSet{"admin"});
  CHECK(required_scopes_for(rules, "/administrator", "GET").empty());
}

TEST_CASE("a route rule's methods compare case-insensitively and GET covers HEAD") {
  const std::vector<RouteRule> rules = {rule("/admin", {"admin"}, {"GET"}), rule("/write", {"w"}, {"post"})};
  CHECK(required_scopes_for(rules, "/admin", "GET") == ScopeSet{"admin"});
  CHECK(required_scopes_for(rules, "/admin", "get") == ScopeSet{"admin"});
  CHECK(required_scopes_for(rules, "/admin", "HEAD") == ScopeSet{"admin"});
  CHECK(required_scopes_for(rules, "/admin", "head") == ScopeSet{"admin"});
  CHECK(required_scopes_for(rules, "/admin", "POST").empty());
  CHECK(required_scopes_for(rules, "/write", "POST") == ScopeSet{"w"});
  CHECK(required_scopes_for(rules, "/write", "Post") == ScopeSet{"w"});
  CHECK(route_method_matches("HEAD", "HEAD"));
  CHECK_FALSE(route_method_matches("HEAD", "GET"));
}

TEST_CASE("the longest matching route prefix wins") {
  const std::vector<RouteRule> rules = {rule("/", {"read"}), rule("/admin", {"admin"}),
                                        rule("/admin/audit", {"audit"})};
  CHECK(required_scopes_for(rules, "/notes", "GET") == ScopeSet{"read"});
  CHECK(required_scopes_for(rules, "/admin/users", "GET") == ScopeSet{"admin"});
  CHECK(required_scopes_for(rules, "/Admin/Audit/x", "GET") == ScopeSet{"audit"});
}

// --- URLs and resources ------------------------------------------------------

TEST_CASE("the URL reader splits scheme, host, port and path and refuses what it cannot split") {
  auto u = parse_url("HTTPS://Plugin.Example.COM:443/mcp?x=1#f");
  REQUIRE(u);
  CHECK(u->scheme == "https");
  CHECK(u->host == "Plugin.Example.COM");
  CHECK(u->port == 443);
  CHECK(u->path == "/mcp");
  CHECK(u->query == "x=1");
  CHECK(u->has_fragment);
  CHECK(u->origin() == "https://plugin.example.com");
  auto v6 = parse_url("http://[::1]:8080/cb");
  REQUIRE(v6);
  CHECK(v6->host == "[::1]");
  CHECK(v6->normalized_authority() == "[::1]:8080");
  CHECK_FALSE(parse_url("https://user@evil.test/"));
  CHECK_FALSE(parse_url("https://good.test@evil.test/"));
  CHECK_FALSE(parse_url("https://a.test:99999/"));
  CHECK_FALSE(parse_url("https://a.test:/"));
  CHECK_FALSE(parse_url("https://a.test\\@b.test/"));
  CHECK_FALSE(parse_url("https://a b.test/"));
  CHECK_FALSE(parse_url("ftp://a.test/"));
  CHECK_FALSE(parse_url("javascript://a.test/"));
  CHECK_FALSE(parse_url("https:///path"));
  CHECK_FALSE(parse_url("https://a%2etest/"));
  CHECK_FALSE(parse_url(std::string("https://a.test/\x01")));
}

TEST_CASE("a bracketed host is an IPv6 address inet_pton reads, or the URL is refused (fuzz_redirect_uri)") {
  CHECK(parse_url("http://[::1]/cb"));
  CHECK(parse_url("http://[2001:db8::7]:8443/cb"));
  CHECK(parse_url("http://[::ffff:127.0.0.1]/cb"));
  CHECK_FALSE(parse_url("http://[:9]/cb"));  // the fuzzer's find
  CHECK_FALSE(parse_url("http://[::1::2]/cb"));
  CHECK_FALSE(parse_url("http://[1.2.3.4]/cb"));
  CHECK_FALSE(parse_url("http://[....]/cb"));
  CHECK_FALSE(parse_url("http://[::1%25eth0]/cb"));
  CHECK_FALSE(parse_url("http://[]/cb"));
}

TEST_CASE("a forwarded URL matches a resource by scheme, host without the default port, and path") {
  Config c;
  c.resources = {{"https://a.test/mcp", {}, {}}, {"https://b.test", {}, {}}, {"http://a.test:8080/api", {}, {}}};
  auto match = [&](std::string_view scheme, std::string_view host, std::string_view path) -> std::string {
    const ResourceConfig* r = resource_for_url(c, ForwardedUrl{scheme, host, path});
    return r ? r->uri : "none";
  };
  CHECK(match("https", "a.test", "/mcp") == "https://a.test/mcp");
  CHECK(match("https", "A.TEST:443", "/mcp/tools") == "https://a.test/mcp");
  CHECK(match("HTTPS", "a.test", "/MCP") == "https://a.test/mcp");
  CHECK(match("https", "B.TEST:443", "/anything") == "https://b.test");
  CHECK(match("http", "a.test:8080", "/api/x") == "http://a.test:8080/api");
  // Not a match: another scheme, host, port or path.
  CHECK(match("http", "a.test", "/mcp") == "none");
  CHECK(match("https", "a.test:8443", "/mcp") == "none");
  CHECK(match("https", "a.test", "/mcpx") == "none");
  CHECK(match("https", "a.test", "/other") == "none");
  CHECK(match("https", "c.test", "/mcp") == "none");
  CHECK(match("https", "a.test.evil.test", "/mcp") == "none");
  CHECK(match("https", "a.test, b.test", "/") == "none");
  CHECK(match("https", "b.test@a.test", "/mcp") == "none");
  CHECK(match("gopher", "a.test", "/mcp") == "none");
}

TEST_CASE("a resource's metadata URL is path-inserted for every resource, the first included") {
  Config c;
  c.issuer = "https://auth.test";
  c.resources = {{"https://a.test/mcp", {}, {}}, {"https://b.test", {}, {}}};
  CHECK(resource_metadata_url(c, "https://a.test/mcp") == "https://auth.test/.well-known/oauth-protected-resource/mcp");
  CHECK(resource_metadata_url(c, "https://b.test") == "https://auth.test/.well-known/oauth-protected-resource");
  CHECK(resource_metadata_url(c, "https://b.test/api/") == "https://auth.test/.well-known/oauth-protected-resource/api");
}

// --- the client address ------------------------------------------------------

TEST_CASE("the client is the rightmost X-Forwarded-For entry that is not a trusted proxy") {
  const AddressMatcher trusted({"127.0.0.0/8", "::1/128", "10.0.0.0/8"});
  CHECK(client_address("127.0.0.1", {"203.0.113.9"}, trusted) == "203.0.113.9");
  CHECK(client_address("127.0.0.1", {"198.51.100.1, 203.0.113.9, 10.1.2.3"}, trusted) == "203.0.113.9");
  CHECK(client_address("127.0.0.1", {"198.51.100.1", "203.0.113.9"}, trusted) == "203.0.113.9");
  // A client that writes "127.0.0.1" itself is still the address the proxy saw.
  CHECK(client_address("127.0.0.1", {"127.0.0.1, 203.0.113.9"}, trusted) == "203.0.113.9");
  CHECK(client_address("::1", {"2001:db8::1"}, trusted) == "2001:db8::1");
  CHECK(client_address("127.0.0.1", {}, trusted) == "127.0.0.1");
  CHECK(client_address("127.0.0.1", {"10.0.0.5"}, trusted) == "10.0.0.5");
}

TEST_CASE("X-Forwarded-For from an untrusted peer is ignored") {
  const AddressMatcher trusted({"127.0.0.0/8"});
  CHECK(client_address("203.0.113.9", {"127.0.0.1"}, trusted) == "203.0.113.9");
}

TEST_CASE("an X-Forwarded-For entry that is not an address leaves the client unknown") {
  const AddressMatcher trusted({"127.0.0.0/8"});
  CHECK_FALSE(client_address("127.0.0.1", {"unknown"}, trusted));
  CHECK_FALSE(client_address("127.0.0.1", {"203.0.113.9:4711"}, trusted));
  CHECK_FALSE(client_address("127.0.0.1", {"203.0.113.9,"}, trusted));
  CHECK_FALSE(client_address("127.0.0.1", {"[2001:db8::1]"}, trusted));
  CHECK_FALSE(client_address("127.0.0.1", {""}, trusted));
  CHECK_FALSE(client_address("127.0.0.1", {"203.0.113.9, junk"}, trusted));        // right of the client
  CHECK_FALSE(client_address("127.0.0.1", {"203.0.113.9, junk, 127.0.0.2"}, trusted));
}

TEST_CASE("what a client writes left of its own entry never decides its address (no fallback to the proxy)") {
  // Attacker review: "junk, 9.9.9.9" made the whole chain unknown, and the
  // callers fell back to the proxy's address, so a client escaped its own
  // throttle window and the audit log lost its address.
  const AddressMatcher trusted({"127.0.0.0/8"});
  CHECK(client_address("127.0.0.1", {"junk, 9.9.9.9"}, trusted) == "9.9.9.9");
  CHECK(client_address("127.0.0.1", {"1.2.3.4:5, 9.9.9.9"}, trusted) == "9.9.9.9");
  CHECK(client_address("127.0.0.1", {"", "9.9.9.9"}, trusted) == "9.9.9.9");
  CHECK(client_address("127.0.0.1", {"[2001:db8::1], 9.9.9.9, 127.0.0.2"}, trusted) == "9.9.9.9");
}

// --- the decision ------------------------------------------------------------

namespace {

struct Recorded {
  int calls = 0;
  ScopeSet required;
  std::string resource;
};

// The credential check the decision calls: "good" is valid with scope
// "read", "admin" with "admin read"; anything else is invalid.
CredentialCheck check_into(Recorded& rec) {
  return [&rec](std::string_view token, const ScopeSet& required, std::string_view resource) {
    ++rec.calls;
    rec.required = required;
    rec.resource = std::string(resource);
    VerifyOutcome o;
    o.required = required;
    if (token != "good" && token != "admin") {
      o.result = VerifyResult::InvalidToken;
      o.error_description = "unknown token";
      return o;
    }
    auto id = std::make_shared<Identity>();
    id->subject = "u1";
    id->scopes = token == "admin" ? ScopeSet{"admin", "read"} : ScopeSet{"read"};
    id->scope = join_scopes(id->scopes);
    o.identity = id;
    bool enough = true;
    for (const auto& s : required) enough = enough && id->scopes.count(s) > 0;
    o.result = enough ? VerifyResult::Ok : VerifyResult::InsufficientScope;
    return o;
  };
}

Config gateway_config() {
  Config c;
  c.issuer = "https://auth.test";
  c.resources = {{"https://a.test/mcp", {"read"}, {}}};
  c.routes = {rule("/admin", {"admin"}, {"GET", "POST"})};
  return c;
}

GatewayRequest proxied(std::string_view uri, std::string_view token = "good") {
  GatewayRequest r;
  r.method = "GET";
  r.from_trusted_proxy = true;
  r.original_uri = {uri};
  if (!token.empty()) r.authorization = {token == "good" ? "Bearer good" : "Bearer admin"};
  return r;
}

}  // namespace

TEST_CASE("the gateway refuses every ambiguous walk around an /admin rule with 403 invalid_request") {
  const Config c = gateway_config();
  Recorded rec;
  for (std::string_view uri : {"/admin/%2e%2e/public", "/admin/..%2fpublic", "/admin/../public", "/admin;x=1/users",
                               "/public/..%2fadmin", "/admin%2fusers", "/%2561dmin", "//h/admin", "/admin%3bx"}) {
    INFO(uri);
    const GatewayDecision d = decide_gateway(proxied(uri), c, check_into(rec));
    CHECK(d.status == 403);
    CHECK(d.error == "invalid_request");
    CHECK(d.audit);
  }
  CHECK(rec.calls == 0);  // refused before any credential is looked at
}

TEST_CASE("the gateway needs the admin scope for /Admin, HEAD and an absolute-form URI") {
  const Config c = gateway_config();
  Recorded rec;
  for (std::string_view uri : {"/Admin/users", "/ADMIN", "http://a.test/admin/x", "/admin//x"}) {
    INFO(uri);
    const GatewayDecision d = decide_gateway(proxied(uri), c, check_into(rec));
    CHECK(d.status == 403);
    CHECK(d.error == "insufficient_scope");
    CHECK(d.scope == "admin");
  }
  GatewayRequest head = proxied("/admin/users");
  head.original_method = {"HEAD"};
  CHECK(decide_gateway(head, c, check_into(rec)).status == 403);
  head.original_method = {"head"};
  CHECK(decide_gateway(head, c, check_into(rec)).status == 403);
  CHECK(decide_gateway(proxied("/admin/users", "admin"), c, check_into(rec)).status == 200);
  CHECK(decide_gateway(proxied("/public"), c, check_into(rec)).status == 200);
}

TEST_CASE("with strict_paths off the gateway resolves the path instead of refusing it") {
  Config c = gateway_config();
  c.strict_paths = false;
  Recorded rec;
  const GatewayDecision d = decide_gateway(proxied("/public/%2e%2e/admin"), c, check_into(rec));
  CHECK(d.status == 403);
  CHECK(d.error == "insufficient_scope");
  CHECK(decide_gateway(proxied("/admin/../public"), c, check_into(rec)).status == 200);
}

TEST_CASE("forwarded fields from an untrusted peer are ignored") {
  Config c = gateway_config();
  c.routes.clear();
  Recorded rec;
  GatewayRequest r = proxied("/admin/%2e%2e");
  r.from_trusted_proxy = false;
  r.original_method = {"BREW ME"};
  CHECK(decide_gateway(r, c, check_into(rec)).status == 200);
}

TEST_CASE("with route rules, a request that names no original URI is refused") {
  const Config c = gateway_config();
  Recorded rec;
  GatewayRequest r = proxied("");
  r.original_uri.clear();
  const GatewayDecision d = decide_gateway(r, c, check_into(rec));
  CHECK(d.status == 403);
  CHECK(d.error == "invalid_request");
  Config no_rules = gateway_config();
  no_rules.routes.clear();
  CHECK(decide_gateway(r, no_rules, check_into(rec)).status == 200);
}

TEST_CASE("repeated or disagreeing forwarded fields are refused") {
  const Config c = gateway_config();
  Recorded rec;
  GatewayRequest two = proxied("/public");
  two.original_uri = {"/public", "/admin"};
  CHECK(decide_gateway(two, c, check_into(rec)).status == 403);
  GatewayRequest disagree = proxied("/public");
  disagree.forwarded_uri = {"/admin"};
  CHECK(decide_gateway(disagree, c, check_into(rec)).status == 403);
  GatewayRequest methods = proxied("/public");
  methods.original_method = {"GET"};
  methods.forwarded_method = {"POST"};
  CHECK(decide_gateway(methods, c, check_into(rec)).status == 403);
  GatewayRequest hosts = proxied("/public");
  hosts.forwarded_host = {"a.test", "b.test"};
  CHECK(decide_gateway(hosts, c, check_into(rec)).status == 403);
  GatewayRequest bad_method = proxied("/public");
  bad_method.original_method = {"GET /admin"};
  CHECK(decide_gateway(bad_method, c, check_into(rec)).status == 403);
}

TEST_CASE("two credential carriers are refused as an invalid token") {
  const Config c = gateway_config();
  Recorded rec;
  GatewayRequest r = proxied("/public");
  r.authorization = {"Bearer good", "Bearer admin"};
  const GatewayDecision d = decide_gateway(r, c, check_into(rec));
  CHECK(d.status == 401);
  CHECK(d.error == "invalid_token");
  CHECK(rec.calls == 0);
}

TEST_CASE("a 401 names the scope the path needs and the resource's own metadata") {
  const Config c = gateway_config();
  Recorded rec;
  const GatewayDecision none = decide_gateway(proxied("/admin/x", ""), c, check_into(rec));
  CHECK(none.status == 401);
  CHECK(none.error.empty());  // RFC 6750 §3.1: no error without credentials
  CHECK(none.scope == "admin");
  CHECK(none.resource_metadata == "https://auth.test/.well-known/oauth-protected-resource/mcp");
  GatewayRequest bad = proxied("/admin/x");
  bad.authorization = {"Bearer forged"};
  const GatewayDecision invalid = decide_gateway(bad, c, check_into(rec));
  CHECK(invalid.status == 401);
  CHECK(invalid.error == "invalid_token");
  CHECK(invalid.scope == "admin");
}

namespace {

Config two_resources() {
  Config c;
  c.issuer = "https://auth.test";
  c.resources = {{"https://a.test", {}, {}}, {"https://b.test/api", {}, {rule("/api/admin", {"admin"})}}};
  return c;
}

GatewayRequest to(std::string_view proto, std::string_view host, std::string_view uri) {
  GatewayRequest r = proxied(uri);
  r.forwarded_proto = {proto};
  r.forwarded_host = {host};
  return r;
}

}  // namespace

TEST_CASE("with several resources a request is checked for the resource its URL falls under") {
  const Config c = two_resources();
  Recorded rec;
  CHECK(decide_gateway(to("https", "B.TEST:443", "/api/x"), c, check_into(rec)).status == 200);
  CHECK(rec.resource == "https://b.test/api");
  CHECK(decide_gateway(to("https", "a.test", "/x"), c, check_into(rec)).status == 200);
  CHECK(rec.resource == "https://a.test");
  // The resource's own route rules apply.
  CHECK(decide_gateway(to("https", "b.test", "/API/admin"), c, check_into(rec)).status == 403);
}

TEST_CASE("with several resources a request that matches none is 401 invalid_token, never the first") {
  const Config c = two_resources();
  Recorded rec;
  for (const GatewayRequest& r : {to("https", "c.test", "/x"), to("http", "a.test", "/x"),
                                  to("https", "b.test", "/other"), to("https", "a.test:8443", "/x"),
                                  proxied("/x")}) {
    const GatewayDecision d = decide_gateway(r, c, check_into(rec));
    CHECK(d.status == 401);
    CHECK(d.error == "invalid_token");
  }
  CHECK(rec.calls == 0);
}

TEST_CASE("?resource= names the resource, and an unknown one or one that contradicts the URL is refused") {
  const Config c = two_resources();
  Recorded rec;
  GatewayRequest named = proxied("/x");
  named.resource_params = {"https://b.test/api"};
  CHECK(decide_gateway(named, c, check_into(rec)).status == 200);
  CHECK(rec.resource == "https://b.test/api");
  GatewayRequest unknown = proxied("/x");
  unknown.resource_params = {"https://evil.test"};
  CHECK(decide_gateway(unknown, c, check_into(rec)).status == 401);
  GatewayRequest contradicts = to("https", "a.test", "/x");
  contradicts.resource_params = {"https://b.test/api"};
  CHECK(decide_gateway(contradicts, c, check_into(rec)).status == 401);
  GatewayRequest twice = proxied("/x");
  twice.resource_params = {"https://a.test", "https://b.test/api"};
  CHECK(decide_gateway(twice, c, check_into(rec)).status == 403);
  // With one resource, an unknown ?resource= is refused too.
  GatewayRequest one = proxied("/public");
  one.resource_params = {"https://evil.test"};
  CHECK(decide_gateway(one, gateway_config(), check_into(rec)).status == 401);
}

// --- redirect URIs (SPEC §8.4, §8.12) ----------------------------------------

TEST_CASE("a redirect URI must match a registered one exactly") {
  const std::vector<std::string> registered = {"https://app.test/cb", "https://app.test/cb?x=1"};
  CHECK(redirect_uri_allowed(registered, "https://app.test/cb"));
  CHECK(redirect_uri_allowed(registered, "https://app.test/cb?x=1"));
  for (std::string_view hostile : {"https://app.test/cb/", "https://app.test/cb?x=2", "https://APP.test/cb",
                                   "https://app.test:443/cb", "https://app.test/CB", "https://app.test/cb#f",
                                   "https://app.test/cb/../cb", "https://app.test.evil.test/cb",
                                   "https://app.test@evil.test/cb", "http://app.test/cb", "", "https://app.test/c"}) {
    INFO(hostile);
    CHECK_FALSE(redirect_uri_allowed(registered, hostile));
  }
}

TEST_CASE("a loopback redirect URI matches on any port, and only its port may differ (RFC 8252 §7.3)") {
  const std::vector<std::string> registered = {"http://127.0.0.1/cb", "http://[::1]:8000/cb", "http://localhost/cb"};
  CHECK(redirect_uri_allowed(registered, "http://127.0.0.1:51004/cb"));
  CHECK(redirect_uri_allowed(registered, "http://[::1]:1/cb"));
  CHECK(redirect_uri_allowed(registered, "http://localhost:9/cb"));
  for (std::string_view hostile : {"http://127.0.0.1:51004/cb2", "http://127.0.0.1:51004/cb?x", "https://127.0.0.1:5/cb",
                                   "http://127.0.0.2:5/cb", "http://localhost.evil.test:5/cb", "http://[::1]:5/cb/",
                                   "http://127.0.0.1@evil.test:5/cb", "http://127.0.0.1:99999/cb",
                                   "http://127.0.0.1:5/cb#x"}) {
    INFO(hostile);
    CHECK_FALSE(redirect_uri_allowed(registered, hostile));
  }
}

TEST_CASE("an acceptable redirect URI is https, or http on loopback, without a fragment or odd characters") {
  CHECK(is_acceptable_redirect_uri("https://app.test/cb"));
  CHECK(is_acceptable_redirect_uri("http://127.0.0.1:8080/cb"));
  CHECK(is_acceptable_redirect_uri("http://localhost/cb"));
  for (std::string_view bad : {"http://app.test/cb", "https://app.test/cb#x", "https://app.test/c b",
                               "https://user@app.test/cb", "javascript://app.test/%0aalert(1)", "https://app.test/<x>",
                               "https://app.test\\@evil.test/", "ftp://app.test/", "https://app.t\xc3\xa9st/cb",
                               "https://app.test/\x01"}) {
    INFO(bad);
    CHECK_FALSE(is_acceptable_redirect_uri(bad));
  }
}

// --- the verified-credential cache (issue 18, item 6) -------------------------

#include "auth/verify_cache.h"

TEST_CASE("the cache evicts the least recently used entry, not everything, when full") {
  VerifyCache<int> cache(3, 2);
  using Kind = VerifyCache<int>::Kind;
  cache.insert("a", 1, Kind::Valid);
  cache.insert("b", 2, Kind::Valid);
  cache.insert("c", 3, Kind::Valid);
  CHECK(cache.find("a") == 1);  // a is now the most recently used
  cache.insert("d", 4, Kind::Valid);
  CHECK(cache.find("b") == 0);  // b was the least recently used
  CHECK(cache.find("a") == 1);
  CHECK(cache.find("c") == 3);
  CHECK(cache.find("d") == 4);
  CHECK(cache.evictions() == 1);
  CHECK(cache.size(Kind::Valid) == 3);
}

TEST_CASE("a flood of refusals never evicts a valid credential") {
  VerifyCache<int> cache(3, 2);
  using Kind = VerifyCache<int>::Kind;
  cache.insert("key", 7, Kind::Valid);
  for (int i = 0; i < 10000; ++i) cache.insert("forged-" + std::to_string(i), -1, Kind::Refusal);
  CHECK(cache.find("key") == 7);
  CHECK(cache.size(Kind::Refusal) == 2);
  CHECK(cache.size(Kind::Valid) == 1);
  CHECK(cache.evictions() == 9998);
  CHECK(cache.find("forged-9999") == -1);
  CHECK(cache.find("forged-0") == 0);
}

TEST_CASE("re-inserting a key replaces it, also across kinds, and clear empties both shares") {
  VerifyCache<int> cache(2, 2);
  using Kind = VerifyCache<int>::Kind;
  cache.insert("k", -1, Kind::Refusal);
  cache.insert("k", 5, Kind::Valid);
  CHECK(cache.find("k") == 5);
  CHECK(cache.size(Kind::Refusal) == 0);
  cache.clear();
  CHECK(cache.find("k") == 0);
  CHECK(cache.size(Kind::Valid) == 0);
}

// --- trusted_proxies / metrics_from ranges -----------------------------------

TEST_CASE("an address matcher holds exactly its ranges, with IPv4-mapped IPv6 read as IPv4") {
  const AddressMatcher m({"127.0.0.0/8", "::1/128", "10.1.0.0/16", "2001:db8::/32", "not-an-address", "10.0.0.0/99"});
  CHECK(m.contains("127.0.0.1"));
  CHECK(m.contains("127.255.255.254"));
  CHECK(m.contains("::ffff:127.0.0.1"));
  CHECK(m.contains("::1"));
  CHECK(m.contains("10.1.200.3"));
  CHECK(m.contains("2001:db8:ffff::1"));
  CHECK_FALSE(m.contains("128.0.0.1"));
  CHECK_FALSE(m.contains("10.2.0.1"));
  CHECK_FALSE(m.contains("::2"));
  CHECK_FALSE(m.contains("2001:db9::1"));
  CHECK_FALSE(m.contains("::127.0.0.1"));  // IPv4-compatible is not IPv4-mapped
  CHECK_FALSE(m.contains("localhost"));
  CHECK_FALSE(m.contains(""));
  CHECK_FALSE(m.contains("127.0.0.1 "));
  CHECK_FALSE(m.contains("0x7f.0.0.1"));
  CHECK_FALSE(m.contains("10.0.0.1"));  // the /99 entry was skipped, not read as /0
}

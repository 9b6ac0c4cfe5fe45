// Configuration (SPEC §7) and durations (SPEC §4), from real files in a
// temporary directory and an environment passed in as a map.
#include <stdlib.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/unit/temp_dir.h"
#include "config/config.h"
#include "config/duration.h"

using plugauth::Config;
using plugauth::ConfigSources;
using plugauth::load_config;

namespace {

using plugauth::testing::TempDir;

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// Sources whose data directory is `dir`, so no stray ./plugauth-data is read.
ConfigSources in_dir(const TempDir& dir) {
  ConfigSources s;
  s.env["STATE_DIRECTORY"] = dir.path();
  return s;
}

Config load_ok(const ConfigSources& sources) {
  auto c = load_config(sources);
  INFO((c ? std::string() : c.error().message));
  REQUIRE(c.ok());
  return c.value();
}

std::string load_error(const ConfigSources& sources) {
  auto c = load_config(sources);
  REQUIRE_FALSE(c.ok());
  return c.error().message;
}

// Loads a config file holding {"<key>": <json_value>} from the data directory.
plugauth::Result<Config> load_file_value(const TempDir& dir, const std::string& key, const std::string& json_value) {
  dir.write("plugauth.json", "{\"" + key + "\": " + json_value + "}");
  return load_config(in_dir(dir));
}

}  // namespace

TEST_CASE("with no file, environment or flags every value is the SPEC §7 default") {
  // An empty explicit file, so that no ./plugauth-data/plugauth.json in the
  // working directory can leak in; data falls back to ./plugauth-data.
  TempDir dir;
  ConfigSources none;
  none.env["PLUGAUTH_CONFIG"] = dir.write("empty.json", "{}");
  none.default_data_dirs = {"./plugauth-data", dir.path() + "/no-such-var-lib-plugauth"};
  Config c = load_ok(none);
  CHECK(c.listen == "127.0.0.1:7070");
  CHECK(c.listen_host() == "127.0.0.1");
  CHECK(c.listen_port() == 7070);
  CHECK(c.issuer == "http://127.0.0.1:7070");
  CHECK(c.data == "./plugauth-data");
  CHECK(c.access_token_ttl == 900);
  CHECK(c.refresh_token_ttl == 30 * 86400);
  CHECK(c.code_ttl == 60);
  CHECK(c.token_alg == "EdDSA");
  CHECK(c.registration == "open");
  CHECK(c.refresh_grace == 30);
  CHECK(c.trusted_proxies == std::vector<std::string>{"127.0.0.0/8", "::1/128"});
  REQUIRE(c.resources.size() == 1);
  CHECK(c.resources[0].uri == c.issuer);
  CHECK(c.resources[0].scopes_supported.empty());
  CHECK(c.resources[0].routes.empty());
  CHECK(c.routes.empty());
  CHECK(c.scopes.empty());
  CHECK(c.cors_origins.empty());
  CHECK(c.api_key_header.empty());
  CHECK_FALSE(c.cimd_allow_private);
  CHECK(c.extra_ca_file.empty());
  CHECK(c.strict_paths);
  CHECK(c.metrics_from == std::vector<std::string>{"127.0.0.0/8", "::1/128"});
  CHECK(plugauth::config_warnings(c).empty());
}

TEST_CASE("a flag overrides PLUGAUTH_* which overrides the file") {
  TempDir dir;
  dir.write("plugauth.json", R"({"listen": "127.0.0.1:1111", "access_token_ttl": "1m"})");
  ConfigSources s = in_dir(dir);
  CHECK(load_ok(s).listen == "127.0.0.1:1111");
  CHECK(load_ok(s).access_token_ttl == 60);

  s.env["PLUGAUTH_LISTEN"] = "127.0.0.1:2222";
  s.env["PLUGAUTH_ACCESS_TOKEN_TTL"] = "2m";
  CHECK(load_ok(s).listen == "127.0.0.1:2222");
  CHECK(load_ok(s).access_token_ttl == 120);

  s.flags["listen"] = "127.0.0.1:3333";
  s.flags["access_token_ttl"] = "3m";
  Config c = load_ok(s);
  CHECK(c.listen == "127.0.0.1:3333");
  CHECK(c.access_token_ttl == 180);
  CHECK(c.config_file == dir.path() + "/plugauth.json");
  // The default issuer follows the winning listen address.
  CHECK(c.issuer == "http://127.0.0.1:3333");
}

TEST_CASE("durations take whole seconds or a number with s, m, h or d") {
  TempDir dir;
  struct Case {
    const char* json;
    int64_t seconds;
  };
  for (const auto& [json, seconds] : {Case{R"("15m")", 900}, Case{R"("90d")", 90 * 86400}, Case{R"("12h")", 43200},
                                      Case{R"("45s")", 45}, Case{"900", 900}, Case{R"("900")", 900}}) {
    INFO(json);
    auto c = load_file_value(dir, "access_token_ttl", json);
    REQUIRE(c.ok());
    CHECK(c->access_token_ttl == seconds);
  }
  ConfigSources env = in_dir(dir);
  std::filesystem::remove(dir.path() + "/plugauth.json");
  env.env["PLUGAUTH_REFRESH_TOKEN_TTL"] = "7d";
  env.env["PLUGAUTH_CODE_TTL"] = "30";
  env.env["PLUGAUTH_REFRESH_GRACE"] = "1m";
  Config c = load_ok(env);
  CHECK(c.refresh_token_ttl == 7 * 86400);
  CHECK(c.code_ttl == 30);
  CHECK(c.refresh_grace == 60);
}

TEST_CASE("a bad duration is refused naming the key and the allowed forms") {
  TempDir dir;
  for (const char* json : {R"("0")", R"("-5")", R"("5w")", R"("")", "0", "-5", "1.5", R"("15 m")", "true"}) {
    INFO(json);
    auto c = load_file_value(dir, "refresh_token_ttl", json);
    REQUIRE_FALSE(c.ok());
    CHECK(contains(c.error().message, "\"refresh_token_ttl\""));
    CHECK(contains(c.error().message, "seconds, or a number with s, m, h or d"));
  }
  std::filesystem::remove(dir.path() + "/plugauth.json");
  for (const char* text : {"0", "-5", "5w", ""}) {
    INFO(text);
    ConfigSources s = in_dir(dir);
    s.env["PLUGAUTH_CODE_TTL"] = text;
    auto message = load_error(s);
    CHECK(contains(message, "PLUGAUTH_CODE_TTL"));
    CHECK(contains(message, "\"code_ttl\""));
    CHECK(contains(message, "seconds, or a number with s, m, h or d"));
  }
}

TEST_CASE("parse_duration and format_duration round-trip") {
  using plugauth::format_duration;
  using plugauth::parse_duration;
  CHECK(parse_duration("15m") == 900);
  CHECK(parse_duration("90d") == 90 * 86400);
  CHECK(parse_duration("12h") == 43200);
  CHECK(parse_duration("45s") == 45);
  CHECK(parse_duration("900") == 900);
  for (const char* bad : {"", "0", "0s", "-5", "5w", "m", "1.5h", " 5m", "5m ", "+5", "99999999999999999d"}) {
    INFO(bad);
    CHECK_FALSE(parse_duration(bad));
  }
  CHECK(parse_duration("36500d") == 36500LL * 86400);  // 100 years is the ceiling
  CHECK_FALSE(parse_duration("36501d"));

  CHECK(format_duration(900) == "15m");
  CHECK(format_duration(2592000) == "30d");
  CHECK(format_duration(7200) == "2h");
  CHECK(format_duration(61) == "61s");
  CHECK(format_duration(1) == "1s");
  for (int64_t seconds : {1LL, 45LL, 60LL, 61LL, 900LL, 3600LL, 3601LL, 43200LL, 86400LL, 90LL * 86400, 86401LL}) {
    INFO(seconds);
    CHECK(parse_duration(format_duration(seconds)) == seconds);
  }
  for (const char* text : {"15m", "90d", "12h", "45s", "61s"}) CHECK(format_duration(*parse_duration(text)) == text);
}

TEST_CASE("an unknown key in the file is refused naming it and listing the known keys") {
  TempDir dir;
  auto c = load_file_value(dir, "acces_token_ttl", "900");
  REQUIRE_FALSE(c.ok());
  const auto& message = c.error().message;
  INFO(message);
  CHECK(contains(message, "\"acces_token_ttl\""));
  CHECK(contains(message, dir.path() + "/plugauth.json"));
  for (const auto& key : plugauth::config_keys()) CHECK(contains(message, key));
}

TEST_CASE("an unknown flag key is refused naming it") {
  TempDir dir;
  ConfigSources s = in_dir(dir);
  s.flags["no_such_key"] = "1";
  CHECK(contains(load_error(s), "\"no_such_key\""));
}

TEST_CASE("token_alg accepts EdDSA and HS256 only, and says so") {
  TempDir dir;
  CHECK(load_file_value(dir, "token_alg", R"("HS256")")->token_alg == "HS256");
  CHECK(load_file_value(dir, "token_alg", R"("EdDSA")")->token_alg == "EdDSA");
  for (const char* json : {R"("RS256")", R"("none")", R"("hs256")", "1"}) {
    INFO(json);
    auto c = load_file_value(dir, "token_alg", json);
    REQUIRE_FALSE(c.ok());
    CHECK(contains(c.error().message, "\"token_alg\""));
    CHECK(contains(c.error().message, "EdDSA, HS256"));
  }
}

TEST_CASE("registration is open, token or closed") {
  TempDir dir;
  for (const char* value : {"open", "token", "closed"}) {
    auto c = load_file_value(dir, "registration", std::string("\"") + value + "\"");
    REQUIRE(c.ok());
    CHECK(c->registration == value);
  }
  auto c = load_file_value(dir, "registration", R"("invite")");
  REQUIRE_FALSE(c.ok());
  CHECK(contains(c.error().message, "\"registration\""));
  CHECK(contains(c.error().message, "\"invite\""));
  CHECK(contains(c.error().message, "open, token, closed"));
}

TEST_CASE("routes are parsed from the file: prefix normalised, methods upper-cased") {
  TempDir dir;
  auto c = load_file_value(dir, "routes",
                           R"([{"prefix": "/admin/", "methods": ["post", "Delete"], "scopes": ["admin"]},
                               {"prefix": "/", "scopes": ["read", "write"]}])");
  INFO((c ? std::string() : c.error().message));
  REQUIRE(c.ok());
  REQUIRE(c->routes.size() == 2);
  CHECK(c->routes[0].prefix == "/admin");
  CHECK(c->routes[0].methods == std::vector<std::string>{"POST", "DELETE"});
  CHECK(c->routes[0].scopes == std::vector<std::string>{"admin"});
  CHECK(c->routes[1].prefix == "/");
  CHECK(c->routes[1].methods.empty());
  CHECK(c->routes[1].scopes == std::vector<std::string>{"read", "write"});
}

TEST_CASE("a route whose prefix does not start with / or that has an unknown member is refused") {
  TempDir dir;
  SECTION("prefix without a leading slash") {
    auto c = load_file_value(dir, "routes", R"([{"prefix": "admin", "scopes": ["admin"]}])");
    REQUIRE_FALSE(c.ok());
    CHECK(contains(c.error().message, "\"routes\""));
    CHECK(contains(c.error().message, "must be a path starting with /"));
  }
  SECTION("empty prefix") {
    auto c = load_file_value(dir, "routes", R"([{"prefix": "", "scopes": ["admin"]}])");
    REQUIRE_FALSE(c.ok());
    CHECK(contains(c.error().message, "\"routes\""));
  }
  SECTION("no prefix") {
    auto c = load_file_value(dir, "routes", R"([{"scopes": ["admin"]}])");
    REQUIRE_FALSE(c.ok());
    CHECK(contains(c.error().message, "needs \"prefix\""));
  }
  SECTION("unknown member") {
    auto c = load_file_value(dir, "routes", R"([{"prefix": "/admin", "scope": ["admin"]}])");
    REQUIRE_FALSE(c.ok());
    CHECK(contains(c.error().message, "\"routes\""));
    CHECK(contains(c.error().message, "unknown rule member \"scope\""));
  }
  SECTION("not a list") {
    auto c = load_file_value(dir, "routes", R"({"prefix": "/admin"})");
    REQUIRE_FALSE(c.ok());
    CHECK(contains(c.error().message, "\"routes\""));
  }
}

TEST_CASE("routes can come from PLUGAUTH_ROUTES as JSON text") {
  TempDir dir;
  ConfigSources s = in_dir(dir);
  s.env["PLUGAUTH_ROUTES"] = R"([{"prefix": "/admin", "methods": ["GET"], "scopes": ["admin"]}])";
  Config c = load_ok(s);
  REQUIRE(c.routes.size() == 1);
  CHECK(c.routes[0].prefix == "/admin");
  CHECK(c.routes[0].methods == std::vector<std::string>{"GET"});

  s.env["PLUGAUTH_ROUTES"] = R"([{"prefix": "/admin",)";
  CHECK(contains(load_error(s), "\"routes\""));
  s.env["PLUGAUTH_ROUTES"] = R"([{"prefix": "admin"}])";
  CHECK(contains(load_error(s), "PLUGAUTH_ROUTES"));
}

TEST_CASE("resources are parsed with their scopes and routes, and unknown members are refused") {
  TempDir dir;
  auto c = load_file_value(dir, "resources",
                           R"([{"uri": "https://plugin.example.com/mcp", "scopes_supported": ["read", "write"],
                                "routes": [{"prefix": "/mcp/admin", "scopes": ["write"]}]},
                               {"uri": "https://other.example.com"}])");
  INFO((c ? std::string() : c.error().message));
  REQUIRE(c.ok());
  REQUIRE(c->resources.size() == 2);
  CHECK(c->resources[0].uri == "https://plugin.example.com/mcp");
  CHECK(c->resources[0].scopes_supported == std::vector<std::string>{"read", "write"});
  REQUIRE(c->resources[0].routes.size() == 1);
  CHECK(c->resources[0].routes[0].prefix == "/mcp/admin");
  CHECK(c->resources[1].uri == "https://other.example.com");

  auto unknown = load_file_value(dir, "resources", R"([{"uri": "https://plugin.example.com", "scope": ["x"]}])");
  REQUIRE_FALSE(unknown.ok());
  CHECK(contains(unknown.error().message, "\"resources\""));
  CHECK(contains(unknown.error().message, "unknown member \"scope\""));

  auto bad_route = load_file_value(dir, "resources",
                                   R"([{"uri": "https://plugin.example.com", "routes": [{"prefix": "mcp"}]}])");
  REQUIRE_FALSE(bad_route.ok());
  CHECK(contains(bad_route.error().message, "must be a path starting with /"));

  auto no_uri = load_file_value(dir, "resources", R"([{"scopes_supported": ["read"]}])");
  REQUIRE_FALSE(no_uri.ok());
  CHECK(contains(no_uri.error().message, "needs \"uri\""));

  auto bad_uri = load_file_value(dir, "resources", R"([{"uri": "plugin.example.com"}])");
  REQUIRE_FALSE(bad_uri.ok());
  CHECK(contains(bad_uri.error().message, "\"uri\""));
}

TEST_CASE("a config file that repeats a key is refused") {
  TempDir dir;
  dir.write("plugauth.json", R"({"listen": "127.0.0.1:1111", "listen": "127.0.0.1:2222"})");
  auto message = load_error(in_dir(dir));
  CHECK(contains(message, dir.path() + "/plugauth.json"));
  CHECK(contains(message, "duplicate"));
}

TEST_CASE("a config file that is not a JSON object is refused naming the file") {
  TempDir dir;
  SECTION("malformed JSON") { dir.write("plugauth.json", R"({"listen": )"); }
  SECTION("an array") { dir.write("plugauth.json", R"(["listen"])"); }
  CHECK(contains(load_error(in_dir(dir)), dir.path() + "/plugauth.json"));
}

TEST_CASE("listen must be HOST:PORT with a port from 1 to 65535") {
  TempDir dir;
  for (const char* json : {R"("localhost")", R"("127.0.0.1")", R"("127.0.0.1:0")", R"("127.0.0.1:65536")",
                           R"("127.0.0.1:http")", R"(":7070")", R"("[::1]")", R"("127.0.0.1:")", "7070"}) {
    INFO(json);
    auto c = load_file_value(dir, "listen", json);
    REQUIRE_FALSE(c.ok());
    CHECK(contains(c.error().message, "\"listen\""));
    CHECK(contains(c.error().message, "HOST:PORT"));
  }
  auto v6 = load_file_value(dir, "listen", R"("[::1]:8080")");
  REQUIRE(v6.ok());
  CHECK(v6->listen_host() == "::1");
  CHECK(v6->listen_port() == 8080);
  CHECK(v6->issuer == "http://[::1]:8080");
  auto any = load_file_value(dir, "listen", R"("0.0.0.0:65535")");
  REQUIRE(any.ok());
  CHECK(any->listen_port() == 65535);
}

TEST_CASE("a trailing slash on the issuer is stripped, also in the default resource") {
  TempDir dir;
  auto c = load_file_value(dir, "issuer", R"("https://auth.example.com/")");
  REQUIRE(c.ok());
  CHECK(c->issuer == "https://auth.example.com");
  REQUIRE(c->resources.size() == 1);
  CHECK(c->resources[0].uri == "https://auth.example.com");

  for (const char* json : {R"("auth.example.com")", R"("https://auth.example.com/?x=1")",
                           R"("https://auth.example.com/#f")", R"("ftp://auth.example.com")"}) {
    INFO(json);
    auto bad = load_file_value(dir, "issuer", json);
    REQUIRE_FALSE(bad.ok());
    CHECK(contains(bad.error().message, "\"issuer\""));
  }
}

TEST_CASE("an http issuer off loopback is warned about, and https and loopback are not") {
  auto warnings_for = [](const std::string& issuer) {
    Config c;
    c.issuer = issuer;
    return plugauth::config_warnings(c);
  };
  auto warned = warnings_for("http://auth.example.com");
  REQUIRE(warned.size() == 1);
  CHECK(contains(warned[0], "http://auth.example.com"));
  CHECK(contains(warned[0], "https"));
  CHECK(warnings_for("http://10.0.0.5:7070").size() == 1);
  CHECK(warnings_for("http://0.0.0.0:7070").size() == 1);

  for (const char* quiet : {"https://auth.example.com", "https://10.0.0.5:7070", "http://127.0.0.1:7070",
                            "http://127.1.2.3", "http://localhost:7070", "http://[::1]:7070",
                            "http://localhost/auth"}) {
    INFO(quiet);
    CHECK(warnings_for(quiet).empty());
  }
}

TEST_CASE("STATE_DIRECTORY is the data directory when set, and its plugauth.json is read") {
  TempDir dir;
  dir.write("plugauth.json", R"({"code_ttl": "2m"})");
  Config c = load_ok(in_dir(dir));
  CHECK(c.data == dir.path());
  CHECK(c.code_ttl == 120);
  CHECK(c.config_file == dir.path() + "/plugauth.json");

  TempDir other;
  ConfigSources s = in_dir(dir);
  s.flags["data"] = other.path();  // --data wins over STATE_DIRECTORY
  Config flagged = load_ok(s);
  CHECK(flagged.data == other.path());
  CHECK(flagged.code_ttl == 60);
  CHECK(flagged.config_file.empty());
}

TEST_CASE("the data directory is --data, else $PLUGAUTH_DATA, else $STATE_DIRECTORY, else the first that exists") {
  TempDir dir;
  std::filesystem::create_directory(dir.path() + "/var-lib");
  ConfigSources s;
  s.default_data_dirs = {dir.path() + "/local", dir.path() + "/var-lib"};
  // Neither named: the first default that exists, and it says so.
  Config found = load_ok(s);
  CHECK(found.data == dir.path() + "/var-lib");
  CHECK(found.data_source == dir.path() + "/var-lib (it exists)");
  std::filesystem::create_directory(dir.path() + "/local");
  CHECK(load_ok(s).data == dir.path() + "/local");
  // None exists: the first, named by nothing (only serve may create it).
  ConfigSources nothing;
  nothing.default_data_dirs = {dir.path() + "/a", dir.path() + "/b"};
  Config fallback = load_ok(nothing);
  CHECK(fallback.data == dir.path() + "/a");
  CHECK(fallback.data_source.empty());
  // Named ones win in order, whether or not they exist.
  s.env["STATE_DIRECTORY"] = dir.path() + "/state";
  CHECK(load_ok(s).data == dir.path() + "/state");
  CHECK(load_ok(s).data_source == "$STATE_DIRECTORY");
  s.env["PLUGAUTH_DATA"] = dir.path() + "/env";
  CHECK(load_ok(s).data == dir.path() + "/env");
  CHECK(load_ok(s).data_source == "$PLUGAUTH_DATA");
  s.flags["data"] = dir.path() + "/flag";
  CHECK(load_ok(s).data == dir.path() + "/flag");
  CHECK(load_ok(s).data_source == "--data");
}

TEST_CASE("a --config naming a missing file is an error, and an explicit file is read") {
  TempDir dir;
  ConfigSources s = in_dir(dir);
  s.config_flag = dir.path() + "/missing.json";
  auto message = load_error(s);
  CHECK(contains(message, dir.path() + "/missing.json"));

  s.config_flag = dir.write("custom.json", R"({"registration": "closed"})");
  Config c = load_ok(s);
  CHECK(c.registration == "closed");
  CHECK(c.config_file == s.config_flag);

  ConfigSources env = in_dir(dir);
  env.env["PLUGAUTH_CONFIG"] = dir.path() + "/also-missing.json";
  CHECK(contains(load_error(env), "also-missing.json"));
}

TEST_CASE("booleans, lists and other keys accept their documented forms") {
  TempDir dir;
  ConfigSources s = in_dir(dir);
  s.env["PLUGAUTH_CIMD_ALLOW_PRIVATE"] = "true";
  s.env["PLUGAUTH_TRUSTED_PROXIES"] = "10.0.0.0/8, ::1";
  s.env["PLUGAUTH_CORS_ORIGINS"] = R"(["https://chatgpt.com"])";
  s.env["PLUGAUTH_SCOPES"] = R"({"notes:read": "Read your notes"})";
  s.env["PLUGAUTH_API_KEY_HEADER"] = "X-Api-Key";
  s.env["PLUGAUTH_STRICT_PATHS"] = "false";
  s.env["PLUGAUTH_METRICS_FROM"] = "10.9.0.0/16";
  Config c = load_ok(s);
  CHECK_FALSE(c.strict_paths);
  CHECK(c.metrics_from == std::vector<std::string>{"10.9.0.0/16"});
  const auto warnings = plugauth::config_warnings(c);
  CHECK(std::any_of(warnings.begin(), warnings.end(), [](const std::string& w) { return contains(w, "strict_paths"); }));
  CHECK(c.cimd_allow_private);
  CHECK(c.trusted_proxies == std::vector<std::string>{"10.0.0.0/8", "::1"});
  CHECK(c.cors_origins == std::vector<std::string>{"https://chatgpt.com"});
  CHECK(c.scopes == std::map<std::string, std::string>{{"notes:read", "Read your notes"}});
  CHECK(c.api_key_header == "X-Api-Key");

  for (const auto& [key, json] : std::vector<std::pair<std::string, std::string>>{
           {"cimd_allow_private", R"("yes")"},
           {"trusted_proxies", R"(["10.0.0.0/33"])"},
           {"trusted_proxies", R"(["example.com"])"},
           {"api_key_header", R"("Authorization")"},
           {"scopes", R"({"has space": "x"})"},
           {"cors_origins", R"(["chatgpt.com"])"},
           {"strict_paths", R"("no")"},
           {"metrics_from", R"(["0.0.0.0/40"])"},
           {"metrics_from", R"("everyone")"},
           {"worker_threads", "8"}}) {
    INFO(key << " = " << json);
    auto bad = load_file_value(dir, key, json);
    REQUIRE_FALSE(bad.ok());
    CHECK(contains(bad.error().message, "\"" + key + "\""));
  }
}

TEST_CASE("the README's config table documents every config key, and only those") {
  std::ifstream in(std::string(PLUGAUTH_SOURCE_DIR) + "/README.md");
  REQUIRE(in);
  std::string line;
  bool in_table = false;
  std::vector<std::string> documented;
  while (std::getline(in, line)) {
    if (line == "| key | default | what it does |") {
      in_table = true;
      continue;
    }
    if (!in_table || line.rfind("|---", 0) == 0) continue;
    if (line.rfind("| `", 0) != 0) break;  // the table ends
    const auto end = line.find('`', 3);
    REQUIRE(end != std::string::npos);
    documented.push_back(line.substr(3, end - 3));
  }
  REQUIRE(in_table);
  for (const auto& key : plugauth::config_keys()) {
    INFO("config key missing from the README's table: " << key);
    CHECK(std::count(documented.begin(), documented.end(), key) == 1);
  }
  for (const auto& key : documented) {
    INFO("the README documents a key plugauth does not have: " << key);
    CHECK(std::count(plugauth::config_keys().begin(), plugauth::config_keys().end(), key) == 1);
  }
}

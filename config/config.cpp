#include "config/config.h"

#include <arpa/inet.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <sstream>

#include "common/json.h"
#include "common/url.h"
#include "config/duration.h"

namespace plugauth {
namespace {

constexpr size_t kMaxConfigFile = 1 << 20;

enum class Kind { String, Duration, Bool, Integer, Json };

struct KeySpec {
  const char* name;
  Kind kind;
  const char* allowed;  // shown in errors
  std::function<Status(Config&, const picojson::value&)> set;
};

Error bad(const std::string& key, const std::string& allowed, const std::string& why = "") {
  return make_error("config key \"" + key + "\": " + (why.empty() ? "invalid value" : why) +
                    "; allowed: " + allowed);
}

Result<std::vector<std::string>> string_list(const picojson::value& v, const std::string& key,
                                             const std::string& allowed) {
  std::vector<std::string> out;
  if (v.is<std::string>()) {  // "a, b" or "a b" from an environment variable or flag
    std::string s = v.get<std::string>();
    std::replace(s.begin(), s.end(), ',', ' ');
    std::istringstream in(s);
    for (std::string item; in >> item;) out.push_back(item);
    return out;
  }
  if (!v.is<picojson::array>()) return bad(key, allowed, "expected a list of strings");
  for (const auto& item : v.get<picojson::array>()) {
    if (!item.is<std::string>()) return bad(key, allowed, "expected a list of strings");
    out.push_back(item.get<std::string>());
  }
  return out;
}

Result<std::vector<RouteRule>> parse_routes(const picojson::value& v, const std::string& key) {
  const std::string allowed = R"([{"prefix": "/path", "methods": ["GET"], "scopes": ["a"]}, …])";
  if (!v.is<picojson::array>()) return bad(key, allowed, "expected a list of rules");
  std::vector<RouteRule> rules;
  for (const auto& item : v.get<picojson::array>()) {
    if (!item.is<picojson::object>()) return bad(key, allowed, "each rule must be an object");
    RouteRule r;
    for (const auto& [name, value] : item.get<picojson::object>()) {
      if (name == "prefix") {
        if (!value.is<std::string>() || value.get<std::string>().empty() ||
            value.get<std::string>()[0] != '/')
          return bad(key, allowed, "\"prefix\" must be a path starting with /");
        r.prefix = value.get<std::string>();
        while (r.prefix.size() > 1 && r.prefix.back() == '/') r.prefix.pop_back();
      } else if (name == "methods" || name == "scopes") {
        auto list = string_list(value, key + "." + name, allowed);
        if (!list) return list.error();
        if (name == "methods") {
          for (auto& m : *list) std::transform(m.begin(), m.end(), m.begin(), ::toupper);
          r.methods = *list;
        } else {
          // SPEC §4: offline_access says the app may stay connected; it is
          // never in an access token, so no route can require it.
          for (const auto& s : *list)
            if (s == "offline_access")
              return bad(key, allowed, "\"offline_access\" is not an API permission: no route can require it");
          r.scopes = *list;
        }
      } else {
        return bad(key, allowed, "unknown rule member \"" + name + "\"");
      }
    }
    if (r.prefix.empty()) return bad(key, allowed, "a rule needs \"prefix\"");
    rules.push_back(std::move(r));
  }
  return rules;
}

// "a.b.c.d/n" or "v6/n" or a bare address.
bool valid_cidr(const std::string& s) {
  auto slash = s.find('/');
  std::string addr = s.substr(0, slash);
  unsigned char buf[16];
  int bits;
  if (inet_pton(AF_INET, addr.c_str(), buf) == 1) bits = 32;
  else if (inet_pton(AF_INET6, addr.c_str(), buf) == 1) bits = 128;
  else return false;
  if (slash == std::string::npos) return true;
  std::string n = s.substr(slash + 1);
  if (n.empty() || n.size() > 3 || n.find_first_not_of("0123456789") != std::string::npos) return false;
  return std::stoi(n) <= bits;
}

Status set_duration(int64_t& field, const picojson::value& v, const std::string& key) {
  const std::string allowed = "seconds, or a number with s, m, h or d (e.g. 900, 15m, 30d)";
  std::optional<int64_t> d;
  if (v.is<double>()) {
    double x = v.get<double>();
    if (x >= 1 && x <= 3.2e9 && x == static_cast<double>(static_cast<int64_t>(x))) d = static_cast<int64_t>(x);
  } else if (v.is<std::string>()) {
    d = parse_duration(v.get<std::string>());
  }
  if (!d) return bad(key, allowed);
  field = *d;
  return ok_status();
}

Status set_string(std::string& field, const picojson::value& v, const std::string& key,
                  const std::string& allowed, const std::vector<std::string>& choices = {}) {
  if (!v.is<std::string>()) return bad(key, allowed, "expected a string");
  const auto& s = v.get<std::string>();
  if (!choices.empty() && std::find(choices.begin(), choices.end(), s) == choices.end())
    return bad(key, allowed, "\"" + s + "\" is not one of them");
  field = s;
  return ok_status();
}

// A whole number in [low, high], as a JSON number or a string of digits
// (environment variables and flags are strings).
Status set_integer(int& field, const picojson::value& v, const std::string& key, int low, int high) {
  const std::string allowed = "an integer from " + std::to_string(low) + " to " + std::to_string(high);
  double x = 0;
  if (v.is<double>()) {
    x = v.get<double>();
  } else if (v.is<std::string>()) {
    const auto& s = v.get<std::string>();
    if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string::npos) return bad(key, allowed);
    x = std::stod(s);
  }
  if (!(x >= low && x <= high) || x != static_cast<int>(x)) return bad(key, allowed);
  field = static_cast<int>(x);
  return ok_status();
}

const std::vector<KeySpec>& specs() {
  static const std::vector<KeySpec> all = {
      {"listen", Kind::String, "HOST:PORT, e.g. 127.0.0.1:7070 or [::1]:7070",
       [](Config& c, const picojson::value& v) -> Status {
         std::string s;
         if (auto st = set_string(s, v, "listen", "HOST:PORT"); !st) return st;
         Config probe;
         probe.listen = s;
         if (!probe.listen_is_host_port())
           return bad("listen", "HOST:PORT, e.g. 127.0.0.1:7070 or [::1]:7070", "\"" + s + "\" is not HOST:PORT");
         c.listen = s;
         return ok_status();
       }},
      {"issuer", Kind::String, "an http(s) URL without query or fragment, e.g. https://auth.example.com",
       [](Config& c, const picojson::value& v) -> Status {
         std::string s;
         if (auto st = set_string(s, v, "issuer", "URL"); !st) return st;
         while (!s.empty() && s.back() == '/') s.pop_back();
         if (!valid_http_url(s))
           return bad("issuer", "an http(s) URL without query or fragment, e.g. https://auth.example.com");
         c.issuer = s;
         return ok_status();
       }},
      {"data", Kind::String, "a directory path",
       [](Config& c, const picojson::value& v) { return set_string(c.data, v, "data", "a directory path"); }},
      {"access_token_ttl", Kind::Duration, "",
       [](Config& c, const picojson::value& v) { return set_duration(c.access_token_ttl, v, "access_token_ttl"); }},
      {"refresh_token_ttl", Kind::Duration, "",
       [](Config& c, const picojson::value& v) { return set_duration(c.refresh_token_ttl, v, "refresh_token_ttl"); }},
      {"code_ttl", Kind::Duration, "",
       [](Config& c, const picojson::value& v) { return set_duration(c.code_ttl, v, "code_ttl"); }},
      {"refresh_grace", Kind::Duration, "",
       [](Config& c, const picojson::value& v) { return set_duration(c.refresh_grace, v, "refresh_grace"); }},
      {"signing_key_rotation", Kind::Duration, "",
       [](Config& c, const picojson::value& v) {
         return set_duration(c.signing_key_rotation, v, "signing_key_rotation");
       }},
      {"audit_retention", Kind::Duration, "",
       [](Config& c, const picojson::value& v) { return set_duration(c.audit_retention, v, "audit_retention"); }},
      {"token_alg", Kind::String, "EdDSA, HS256",
       [](Config& c, const picojson::value& v) {
         return set_string(c.token_alg, v, "token_alg", "EdDSA, HS256", {"EdDSA", "HS256"});
       }},
      {"registration", Kind::String, "open, token, closed",
       [](Config& c, const picojson::value& v) {
         return set_string(c.registration, v, "registration", "open, token, closed", {"open", "token", "closed"});
       }},
      {"resources", Kind::Json, R"([{"uri": "https://plugin.example.com/mcp", "scopes_supported": [...], "routes": [...]}])",
       [](Config& c, const picojson::value& v) -> Status {
         const std::string allowed = R"([{"uri": "https://plugin.example.com/mcp", "scopes_supported": [...], "routes": [...]}])";
         if (!v.is<picojson::array>()) return bad("resources", allowed, "expected a list");
         std::vector<ResourceConfig> out;
         for (const auto& item : v.get<picojson::array>()) {
           if (!item.is<picojson::object>()) return bad("resources", allowed, "each resource must be an object");
           ResourceConfig r;
           for (const auto& [name, value] : item.get<picojson::object>()) {
             if (name == "uri") {
               if (!value.is<std::string>() || !valid_http_url(value.get<std::string>()))
                 return bad("resources", allowed, "\"uri\" must be an absolute http(s) URL without query or fragment");
               r.uri = value.get<std::string>();
             } else if (name == "scopes_supported") {
               auto list = string_list(value, "resources.scopes_supported", allowed);
               if (!list) return list.error();
               for (const auto& s : *list)
                 if (s == "offline_access")
                   return bad("resources", allowed,
                              "\"offline_access\" is not an API permission: the authorization server lists it, "
                              "a resource never does");
               r.scopes_supported = *list;
             } else if (name == "routes") {
               auto routes = parse_routes(value, "resources.routes");
               if (!routes) return routes.error();
               r.routes = *routes;
             } else {
               return bad("resources", allowed, "unknown member \"" + name + "\"");
             }
           }
           if (r.uri.empty()) return bad("resources", allowed, "a resource needs \"uri\"");
           out.push_back(std::move(r));
         }
         c.resources = std::move(out);
         return ok_status();
       }},
      {"routes", Kind::Json, R"([{"prefix": "/admin", "methods": ["POST"], "scopes": ["admin"]}])",
       [](Config& c, const picojson::value& v) -> Status {
         auto routes = parse_routes(v, "routes");
         if (!routes) return routes.error();
         c.routes = *routes;
         return ok_status();
       }},
      {"scopes", Kind::Json, R"({"notes:read": "Read your notes", …})",
       [](Config& c, const picojson::value& v) -> Status {
         const std::string allowed = R"({"notes:read": "Read your notes", …})";
         if (!v.is<picojson::object>()) return bad("scopes", allowed, "expected an object");
         std::map<std::string, std::string> out;
         for (const auto& [name, text] : v.get<picojson::object>()) {
           if (!text.is<std::string>()) return bad("scopes", allowed, "each description must be a string");
           // RFC 6749 §3.3 scope-token: printable ASCII except space, " and \.
           if (name.empty() || name.find_first_of(" \"\\") != std::string::npos ||
               std::any_of(name.begin(), name.end(), [](unsigned char ch) { return ch < 0x21 || ch > 0x7e; }))
             return bad("scopes", allowed, "\"" + name + "\" is not a valid scope name (RFC 6749 §3.3)");
           out[name] = text.get<std::string>();
         }
         c.scopes = std::move(out);
         return ok_status();
       }},
      {"cors_origins", Kind::Json, R"(a list of origins, e.g. ["https://chatgpt.com"])",
       [](Config& c, const picojson::value& v) -> Status {
         auto list = string_list(v, "cors_origins", "a list of origins");
         if (!list) return list.error();
         for (const auto& o : *list)
           if (!valid_http_url(o) && o != "*")
             return bad("cors_origins", "a list of origins like https://chatgpt.com", "\"" + o + "\" is not an origin");
         c.cors_origins = *list;
         return ok_status();
       }},
      {"api_key_header", Kind::String, "an HTTP header name, e.g. X-Api-Key",
       [](Config& c, const picojson::value& v) -> Status {
         std::string s;
         if (auto st = set_string(s, v, "api_key_header", "an HTTP header name"); !st) return st;
         if (s.empty() || s.size() > 64 ||
             s.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != std::string::npos)
           return bad("api_key_header", "an HTTP header name, e.g. X-Api-Key");
         std::string lower = s;
         std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
         if (lower == "authorization" || lower == "cookie" || lower == "host")
           return bad("api_key_header", "an HTTP header name other than Authorization, Cookie or Host");
         c.api_key_header = s;
         return ok_status();
       }},
      {"trusted_proxies", Kind::Json, R"(a list of addresses or CIDR ranges, e.g. ["127.0.0.1", "10.0.0.0/8"])",
       [](Config& c, const picojson::value& v) -> Status {
         const std::string allowed = "a list of addresses or CIDR ranges, e.g. [\"127.0.0.1\", \"10.0.0.0/8\"]";
         auto list = string_list(v, "trusted_proxies", allowed);
         if (!list) return list.error();
         for (const auto& p : *list)
           if (!valid_cidr(p)) return bad("trusted_proxies", allowed, "\"" + p + "\" is not an address or CIDR range");
         c.trusted_proxies = *list;
         return ok_status();
       }},
      {"cimd_allow_private", Kind::Bool, "true, false",
       [](Config& c, const picojson::value& v) -> Status {
         if (v.is<bool>()) { c.cimd_allow_private = v.get<bool>(); return ok_status(); }
         if (v.is<std::string>() && (v.get<std::string>() == "true" || v.get<std::string>() == "false")) {
           c.cimd_allow_private = v.get<std::string>() == "true";
           return ok_status();
         }
         return bad("cimd_allow_private", "true, false");
       }},
      {"strict_paths", Kind::Bool, "true, false",
       [](Config& c, const picojson::value& v) -> Status {
         if (v.is<bool>()) { c.strict_paths = v.get<bool>(); return ok_status(); }
         if (v.is<std::string>() && (v.get<std::string>() == "true" || v.get<std::string>() == "false")) {
           c.strict_paths = v.get<std::string>() == "true";
           return ok_status();
         }
         return bad("strict_paths", "true, false");
       }},
      {"metrics_from", Kind::Json, R"(a list of addresses or CIDR ranges, e.g. ["127.0.0.1", "10.0.0.0/8"])",
       [](Config& c, const picojson::value& v) -> Status {
         const std::string allowed = "a list of addresses or CIDR ranges, e.g. [\"127.0.0.1\", \"10.0.0.0/8\"]";
         auto list = string_list(v, "metrics_from", allowed);
         if (!list) return list.error();
         for (const auto& p : *list)
           if (!valid_cidr(p)) return bad("metrics_from", allowed, "\"" + p + "\" is not an address or CIDR range");
         c.metrics_from = *list;
         return ok_status();
       }},
      {"extra_ca_file", Kind::String, "a path to a PEM bundle",
       [](Config& c, const picojson::value& v) {
         return set_string(c.extra_ca_file, v, "extra_ca_file", "a path to a PEM bundle");
       }},
      {"worker_threads", Kind::Integer, "an integer from 16 to 4096",
       [](Config& c, const picojson::value& v) { return set_integer(c.worker_threads, v, "worker_threads", 16, 4096); }},
      {"password_min_length", Kind::Integer, "an integer from 8 to 1024",
       [](Config& c, const picojson::value& v) {
         return set_integer(c.password_min_length, v, "password_min_length", 8, 1024);
       }},
  };
  return all;
}

const KeySpec* find_spec(const std::string& key) {
  for (const auto& s : specs())
    if (key == s.name) return &s;
  return nullptr;
}

std::string all_key_names() {
  std::string out;
  for (const auto& s : specs()) out += (out.empty() ? "" : ", ") + std::string(s.name);
  return out;
}

// A value from the environment or a flag: structured keys take JSON text
// (lists also "a,b"), the others the plain string.
Result<picojson::value> value_from_text(const KeySpec& spec, const std::string& text) {
  if (spec.kind == Kind::Json) {
    if (!text.empty() && (text[0] == '[' || text[0] == '{')) {
      auto parsed = parse_json_strict(text);
      if (!parsed) return make_error("config key \"" + std::string(spec.name) + "\": " + parsed.error().message);
      return parsed.value();
    }
  }
  return picojson::value(text);
}

Status apply(Config& c, const std::string& key, const picojson::value& v, const std::string& origin) {
  const KeySpec* spec = find_spec(key);
  if (!spec) return make_error(origin + ": unknown config key \"" + key + "\"; known keys: " + all_key_names());
  auto st = spec->set(c, v);
  if (!st) return make_error(origin + ": " + st.error().message);
  return ok_status();
}

std::string env_name(const std::string& key) {
  std::string out = "PLUGAUTH_";
  for (char ch : key) out.push_back(static_cast<char>(::toupper(static_cast<unsigned char>(ch))));
  return out;
}

}  // namespace

std::string Config::listen_host() const {
  if (!listen.empty() && listen[0] == '[') {
    auto close = listen.find(']');
    return close == std::string::npos ? "" : listen.substr(1, close - 1);
  }
  auto colon = listen.rfind(':');
  return colon == std::string::npos ? "" : listen.substr(0, colon);
}

int Config::listen_port() const {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos || (listen[0] == '[' && listen.find(']') > colon)) return -1;
  std::string p = listen.substr(colon + 1);
  if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos) return -1;
  int port = std::stoi(p);
  return port >= 1 && port <= 65535 ? port : -1;
}

const std::vector<std::string>& config_keys() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& s : specs()) out.emplace_back(s.name);
    return out;
  }();
  return names;
}

Result<Config> load_config(const ConfigSources& sources) {
  Config c;
  auto env = [&](const std::string& name) -> std::string {
    auto it = sources.env.find(name);
    return it == sources.env.end() ? "" : it->second;
  };

  // The file is found before it is read: --config, $PLUGAUTH_CONFIG, else
  // plugauth.json in the data directory named by flag, env or default.
  std::string data, data_source;
  if (sources.flags.count("data")) {
    data = sources.flags.at("data"), data_source = "--data";
  } else if (!env("PLUGAUTH_DATA").empty()) {
    data = env("PLUGAUTH_DATA"), data_source = "$PLUGAUTH_DATA";
  } else if (!env("STATE_DIRECTORY").empty()) {
    data = env("STATE_DIRECTORY"), data_source = "$STATE_DIRECTORY";
  } else {
    for (size_t i = 0; i < sources.default_data_dirs.size(); ++i) {
      const std::string& dir = sources.default_data_dirs[i];
      struct stat st {};
      if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;
      // Run as root, a directory found on the way (./plugauth-data where
      // root happens to be) counts only if root owns it: one another user
      // planted must not receive the passwords and keys root types. The
      // last place, the system's installation, is the service user's.
      if (::geteuid() == 0 && st.st_uid != 0 && i + 1 < sources.default_data_dirs.size()) continue;
      data = dir, data_source = dir + " (it exists)";
      break;
    }
    if (data.empty() && !sources.default_data_dirs.empty()) data = sources.default_data_dirs.front();
  }
  std::string file = sources.config_flag.empty() ? env("PLUGAUTH_CONFIG") : sources.config_flag;
  const bool file_required = !file.empty();
  // Only a directory named or found has a config file: one passed over (a
  // ./plugauth-data another user planted for root) must not name another.
  if (file.empty() && !data_source.empty()) file = data + "/plugauth.json";

  std::ifstream in(file, std::ios::binary);
  if (in) {
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (text.size() > kMaxConfigFile) return make_error(file + ": config file larger than 1 MiB");
    auto parsed = parse_json_strict(text);
    if (!parsed) return make_error(file + ": " + parsed.error().message);
    if (!parsed->is<picojson::object>()) return make_error(file + ": the config file must be a JSON object");
    for (const auto& [key, value] : parsed->get<picojson::object>())
      if (auto st = apply(c, key, value, file); !st) return st.error();
    c.config_file = file;
  } else if (file_required) {
    return make_error("cannot read config file " + file);
  }

  for (const auto& spec : specs()) {
    std::string name = env_name(spec.name);
    auto it = sources.env.find(name);
    if (it == sources.env.end()) continue;
    auto v = value_from_text(spec, it->second);
    if (!v) return v.error();
    if (auto st = apply(c, spec.name, *v, "environment " + name); !st) return st.error();
  }
  for (const auto& [key, text] : sources.flags) {
    const KeySpec* spec = find_spec(key);
    if (!spec) return make_error("unknown config key \"" + key + "\"");
    auto v = value_from_text(*spec, text);
    if (!v) return v.error();
    if (auto st = apply(c, key, *v, "--" + key); !st) return st.error();
  }

  // The flag and $PLUGAUTH_DATA were applied as config keys too; a "data"
  // key in the config file names the directory only when neither is given.
  if (c.data.empty()) c.data = data;
  c.data_source = c.data == data ? data_source : c.config_file;
  c.issuer_named = !c.issuer.empty();
  c.resources_named = !c.resources.empty();
  if (c.issuer.empty()) c.issuer = "http://" + c.listen;
  if (c.resources.empty()) c.resources.push_back(ResourceConfig{c.issuer, {}, {}});
  return c;
}

bool valid_http_url(const std::string& s) {
  const auto url = parse_url(s);
  return url && !url->has_query && !url->has_fragment;
}

bool is_loopback_host(const std::string& host) {
  if (host == "localhost" || host == "::1") return true;
  unsigned char buf[4];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 && buf[0] == 127;
}

std::vector<std::string> config_warnings(const Config& c) {
  std::vector<std::string> out;
  if (const auto url = parse_url(c.issuer); url && url->scheme != "https") {
    std::string host = url->host;
    if (host.front() == '[') host = host.substr(1, host.size() - 2);
    if (!is_loopback_host(host))
      out.push_back("issuer " + c.issuer +
                    " is not https and not loopback: tokens and passwords would cross the network in clear;"
                    " put plugauth behind a TLS proxy and set issuer to its https URL");
  }
  if (!c.strict_paths)
    out.push_back(
        "strict_paths is off: /verify resolves \"..\", \"%2e\" and \";\" in the original path instead of refusing "
        "them, and a plugin that reads such a path differently can be reached around a route rule");
  return out;
}

}  // namespace plugauth

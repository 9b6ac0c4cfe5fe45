// Configuration (SPEC §7): a JSON file, then PLUGAUTH_<KEY> environment
// variables, then command-line flags, each overriding the one before. Every
// key is optional; an unknown key or a bad value is an error that names the
// key and what it accepts.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/result.h"

namespace plugauth {

struct RouteRule {
  std::string prefix;                // matches whole path segments
  std::vector<std::string> methods;  // empty: any method
  std::vector<std::string> scopes;   // all required
};

struct ResourceConfig {
  std::string uri;
  std::vector<std::string> scopes_supported;
  std::vector<RouteRule> routes;
};

struct Config {
  std::string listen = "127.0.0.1:7070";
  std::string issuer;  // default: http://<listen>
  // Whether the file, environment or a flag named the issuer (else it is
  // the default, which a command replaces by the one `serve` recorded) and
  // the resources (else there is one, the issuer).
  bool issuer_named = false;
  bool resources_named = false;
  // Which installation: --data, else $PLUGAUTH_DATA, else $STATE_DIRECTORY,
  // else ./plugauth-data if it exists, else /var/lib/plugauth if it exists,
  // else ./plugauth-data (which only `serve` creates).
  std::string data;
  std::string data_source;  // what named `data`: "--data", "$PLUGAUTH_DATA", …; empty: nothing did
  std::string config_file;  // the file that was read, empty if none
  int64_t access_token_ttl = 900;
  int64_t refresh_token_ttl = 30 * 86400;
  int64_t code_ttl = 60;
  int64_t refresh_grace = 30;
  int64_t signing_key_rotation = 30 * 86400;
  int64_t audit_retention = 90 * 86400;
  std::string token_alg = "EdDSA";     // EdDSA | HS256
  std::string registration = "open";   // open | token | closed
  std::vector<ResourceConfig> resources;  // default: one, whose uri is the issuer
  std::vector<RouteRule> routes;
  std::map<std::string, std::string> scopes;  // scope → sentence for the consent page
  std::vector<std::string> cors_origins;
  std::string api_key_header;
  std::vector<std::string> trusted_proxies = {"127.0.0.0/8", "::1/128"};
  bool cimd_allow_private = false;
  // /verify refuses an original path it cannot read unambiguously (SPEC §3, §8.14).
  bool strict_paths = true;
  // Who may read /metrics (SPEC §3): the client address, as the gateway
  // reads it behind trusted_proxies.
  std::vector<std::string> metrics_from = {"127.0.0.0/8", "::1/128"};
  std::string extra_ca_file;
  // Passwords set with `user add` / `user passwd` have at least this many
  // characters (Unicode code points).
  int password_min_length = 8;
  int worker_threads = 512;  // ≥ 256 idle keep-alive connections + headroom (SPEC §8.10)

  // Host and port split out of `listen`.
  std::string listen_host() const;
  int listen_port() const;
  // Whether `listen` is HOST:PORT (the config key and `serve --listen`).
  bool listen_is_host_port() const { return !listen_host().empty() && listen_port() > 0; }
};

// Where the inputs come from; main fills it from the process, tests directly.
struct ConfigSources {
  std::string config_flag;                   // --config
  std::map<std::string, std::string> flags;  // config key → value (e.g. "listen")
  std::map<std::string, std::string> env;    // the whole environment
  // The data directories looked for, in order, when neither a flag nor the
  // environment names one (tests give their own).
  std::vector<std::string> default_data_dirs = {"./plugauth-data", "/var/lib/plugauth"};
};

Result<Config> load_config(const ConfigSources& sources);

// An http(s) URL without query or fragment (what `issuer` and a resource's
// `uri` take).
bool valid_http_url(const std::string& s);

// The names of every config key, in documentation order.
const std::vector<std::string>& config_keys();

// Startup warnings (e.g. a non-https issuer off loopback), one per line.
std::vector<std::string> config_warnings(const Config& config);

bool is_loopback_host(const std::string& host);

}  // namespace plugauth

// manifest, audit and verify.
#include <iostream>

#include "auth/scopes.h"
#include "auth/verifier.h"
#include "cli/format.h"
#include "common/escape.h"
#include "cli/identity_commands.h"
#include "config/duration.h"

namespace plugauth::cli {
namespace {

picojson::value verification_tokens_json(App& app) {
  picojson::object map;
  for (const auto& t : app.store->verification_tokens()) map[t.service] = picojson::value(t.token);
  return picojson::value(std::move(map));
}

// The "auth" object of ai-plugin.json, printed alone on stdout so it can be
// pasted or piped; the GPT Actions editor settings go to stderr.
int manifest(Invocation& inv) {
  const std::string type = inv.get("type");
  if (type != "none" && type != "service_http" && type != "user_http" && type != "oauth")
    return usage_error(inv, "--type must be one of none, service_http, user_http, oauth");
  if (type == "oauth" && !inv.has("client")) return usage_error(inv, "--type oauth needs --client ID");
  auto app = open_app(inv);
  if (!app) return fail(inv, app.error().message);
  print_notices(inv, **app);
  const Config& config = (*app)->config;

  picojson::object auth;
  auth["type"] = picojson::value(type);
  std::string gpt;
  if (type == "none") {
    gpt = "GPT Actions: Authentication → None.";
  } else if (type == "service_http") {
    auth["authorization_type"] = picojson::value("bearer");
    auth["verification_tokens"] = verification_tokens_json(**app);
    gpt = "GPT Actions: Authentication → API Key; paste a service token from\n"
          "  plugauth key create --service openai\n"
          "Auth Type → Bearer.";
  } else if (type == "oauth") {
    auto client = (*app)->store->find_client(inv.get("client"));
    if (!client) return fail(inv, "no client \"" + inv.get("client") + "\"");
    std::string scope = client->scope.value_or("");
    if (scope.empty()) {
      Verifier verifier(*(*app)->store, *(*app)->crypto, (*app)->clock, config, *(*app)->signing_keys);
      scope = join_scopes(verifier.scope_policy()->known());
    }
    auth["client_url"] = picojson::value(config.issuer + "/authorize");
    auth["scope"] = picojson::value(scope);
    auth["authorization_url"] = picojson::value(config.issuer + "/token");
    auth["authorization_content_type"] = picojson::value("application/json");
    auth["verification_tokens"] = verification_tokens_json(**app);
    gpt = "GPT Actions: Authentication → OAuth\n"
          "  Client ID:              " + client->client_id + "\n"
          "  Client Secret:          the secret `plugauth client add` printed (or `plugauth client rotate-secret " +
          client->client_id + "`)\n"
          "  Authorization URL:      " + config.issuer + "/authorize\n"
          "  Token URL:              " + config.issuer + "/token\n"
          "  Scope:                  " + scope + "\n"
          "  Token Exchange Method:  Default (POST request) — Basic authorization header works too\n"
          "Then copy the GPT's callback URL into `plugauth client add --chatgpt-callback g-…` if it is not registered.\n"
          "\n"
          "MCP clients register themselves; no client to create:\n"
          "  ChatGPT apps:  a client ID metadata document or dynamic registration (or a client from\n"
          "                 `plugauth client add --connector chatgpt --public`: paste its id in the connector's OAuth settings)\n"
          "  Claude:        dynamic registration or a client ID metadata document (or `--connector claude`)\n"
          "  VS Code:       a client ID metadata document\n"
          "They ask for offline_access when the server lists it (" + config.issuer +
              " does) and stay connected with refresh tokens.";
  } else {
    auth["authorization_type"] = picojson::value("bearer");
    gpt = "GPT Actions: Authentication → API Key; each user pastes their own key (plugauth key create --user NAME,\n"
          "or the account page). Auth Type → Bearer, or Basic (key as the password)" +
          (config.api_key_header.empty() ? std::string(", or Custom with api_key_header set in the config.")
                                         : ", or Custom with header name " + config.api_key_header + ".");
  }
  print_json(inv, picojson::value(auth));
  *inv.err << "\n" << gpt << "\nPoint your plugin's gateway at " << config.issuer << "/verify (see examples/nginx, examples/caddy).\n";
  return kExitOk;
}

int audit(Invocation& inv) {
  store::AuditQuery q;
  if (inv.has("since")) {
    auto d = parse_duration(inv.get("since"));
    if (!d) return usage_error(inv, "--since takes a duration such as 24h or 7d");
    q.since = -*d;  // made absolute below, once the clock is at hand
  }
  if (inv.has("limit")) {
    const std::string l = inv.get("limit");
    if (l.empty() || l.size() > 6 || l.find_first_not_of("0123456789") != std::string::npos || std::stoi(l) < 1)
      return usage_error(inv, "--limit takes a positive whole number");
    q.limit = std::stoi(l);
  }
  q.action = inv.get("action");
  q.client_id = inv.get("client");
  auto app = open_app(inv);
  if (!app) return fail(inv, app.error().message);
  print_notices(inv, **app);
  if (q.since) q.since = (*app)->clock.now() + *q.since;
  auto events = (*app)->store->audit_events(q);
  if (inv.json) {
    picojson::array arr;
    for (const auto& e : events) {
      picojson::object o;
      o["at"] = picojson::value(iso_time(e.at));
      o["action"] = picojson::value(e.action);
      o["subject"] = picojson::value(e.subject);
      o["client_id"] = picojson::value(e.client_id);
      o["key_id"] = picojson::value(e.key_id);
      o["api_path"] = picojson::value(e.api_path);
      o["status"] = picojson::value(static_cast<double>(e.status));
      o["client_ip"] = picojson::value(e.client_ip);
      o["detail"] = picojson::value(e.detail);
      o["count"] = picojson::value(static_cast<double>(e.count));
      arr.emplace_back(std::move(o));
    }
    picojson::object doc;
    doc["events"] = picojson::value(std::move(arr));
    print_json(inv, picojson::value(std::move(doc)));
    return kExitOk;
  }
  // Every field through the one escaper: a user name or path a stranger
  // chose must not forge a second line or reach the terminal as escapes.
  for (const auto& e : events) {
    *inv.out << iso_time(e.at) << "  " << escape_for_log(e.action);
    if (!e.subject.empty()) *inv.out << "  subject=" << escape_for_log(e.subject);
    if (!e.client_id.empty()) *inv.out << "  client=" << escape_for_log(e.client_id);
    if (!e.key_id.empty()) *inv.out << "  key=" << escape_for_log(e.key_id);
    if (!e.api_path.empty()) *inv.out << "  path=" << escape_for_log(e.api_path);
    if (e.status != 0) *inv.out << "  status=" << e.status;
    if (!e.client_ip.empty()) *inv.out << "  ip=" << escape_for_log(e.client_ip);
    if (!e.detail.empty()) *inv.out << "  " << escape_for_log(e.detail);
    if (e.count > 1) *inv.out << "  (" << e.count << " times)";
    *inv.out << "\n";
  }
  return kExitOk;
}

// `verify -` reads the token from standard input (one line, newline
// stripped), so the secret never sits on a command line where `ps` shows it
// to every local user (SPEC §4).
Result<std::string> token_argument(Invocation& inv) {
  if (inv.args[0] != "-") return inv.args[0];
  std::string token;
  if (!std::getline(*inv.in, token)) return make_error("no token on standard input");
  if (!token.empty() && token.back() == '\r') token.pop_back();
  if (token.empty()) return make_error("the line on standard input is empty");
  return token;
}

int verify(Invocation& inv) {
  auto token = token_argument(inv);
  if (!token) return fail(inv, token.error().message);
  auto app = open_app(inv);
  if (!app) return fail(inv, app.error().message);
  print_notices(inv, **app);
  Verifier verifier(*(*app)->store, *(*app)->crypto, (*app)->clock, (*app)->config, *(*app)->signing_keys);
  ScopeSet required = parse_scopes(inv.get("scope"));
  auto outcome = verifier.verify(*token, required, inv.get("resource"));
  const bool ok = outcome.result == VerifyResult::Ok;
  if (inv.json) {
    picojson::object o;
    o["active"] = picojson::value(ok);
    if (outcome.identity) {
      o["sub"] = picojson::value(outcome.identity->subject);
      o["scope"] = picojson::value(outcome.identity->scope);
      o["type"] = picojson::value(credential_type_name(outcome.identity->type));
      o["token_id"] = picojson::value(outcome.identity->token_id);
      if (!outcome.identity->username.empty()) o["username"] = picojson::value(outcome.identity->username);
      if (!outcome.identity->client.empty()) o["client_id"] = picojson::value(outcome.identity->client);
    }
    if (!ok) o["error"] = picojson::value(outcome.result == VerifyResult::InsufficientScope ? "insufficient_scope" : "invalid_token");
    if (!ok) o["error_description"] = picojson::value(outcome.error_description);
    print_json(inv, picojson::value(std::move(o)));
  } else if (ok) {
    const Identity& id = *outcome.identity;
    *inv.out << "valid " << credential_type_name(id.type) << "  sub=" << id.subject
             << (id.username.empty() ? "" : "  username=" + id.username) << "  scope=" << id.scope
             << "  token_id=" << id.token_id << "\n";
  } else {
    *inv.out << "invalid: " << outcome.error_description << "\n";
  }
  return ok ? kExitOk : kExitFailed;
}

}  // namespace

void register_info_commands(Cli& cli) {
  cli.add({{"manifest"}, "", "print the ai-plugin.json \"auth\" block and the GPT Actions settings",
           {{"type", "TYPE", "none, service_http, user_http or oauth"}, {"client", "ID", "the OAuth client (oauth)"}},
           0, 0, manifest});
  cli.add({{"audit"}, "", "show audit events, newest first",
           {{"since", "DURATION", "only events this recent, e.g. 24h"},
            {"action", "A", "only this action (e.g. verify_failed, key_created)"},
            {"client", "ID", "only events of this client or key id"},
            {"limit", "N", "at most N events (default 100)"}},
           0, 0, audit});
  cli.add({{"verify"}, "TOKEN|-", "check a key or token as /verify would (-: read it from standard input)",
           {{"scope", "\"a b\"", "scopes the request needs"}, {"resource", "URI", "the protected resource"}}, 1, 1,
           verify});
}

}  // namespace plugauth::cli

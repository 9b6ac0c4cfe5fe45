// client and token commands.
#include <algorithm>
#include <functional>
#include <iostream>

#include "auth/base64url.h"
#include "auth/clients.h"
#include "auth/introspection.h"
#include "auth/scopes.h"
#include "auth/sign_ins.h"
#include "cli/format.h"
#include "cli/identity_commands.h"
#include "common/escape.h"
#include "config/duration.h"

namespace plugauth::cli {
namespace {

picojson::value strings(const std::vector<std::string>& v) {
  picojson::array a;
  for (const auto& s : v) a.emplace_back(s);
  return picojson::value(a);
}

picojson::object client_json(const store::ClientRecord& c) {
  picojson::object o;
  o["client_id"] = picojson::value(c.client_id);
  o["name"] = picojson::value(c.name);
  o["public"] = picojson::value(c.is_public);
  o["redirect_uris"] = strings(c.redirect_uris);
  o["scope"] = c.scope ? picojson::value(*c.scope) : picojson::value();
  ScopeSet grants = parse_scopes(c.grant_types);
  o["grant_types"] = strings(std::vector<std::string>(grants.begin(), grants.end()));
  o["registration"] = picojson::value(c.registration);
  o["introspect"] = picojson::value(is_resource_server(c));
  o["created_at"] = picojson::value(iso_time(c.created_at));
  o["expires_at"] = json_time(c.expires_at);
  return o;
}

void print_client_text(std::ostream& os, const store::ClientRecord& c) {
  os << c.client_id << "  " << c.name << (c.is_public ? "  public" : "  confidential")
     << "  scope=" << c.scope.value_or("(any)") << "  grants=" << c.grant_types << "  " << c.registration
     << (is_resource_server(c) ? "  introspect" : "") << "\n";
  for (const auto& u : c.redirect_uris) os << "    redirect " << u << "\n";
}

Result<std::optional<std::string>> scope_value(const std::string& text) {
  ScopeSet scopes = parse_scopes(text);
  for (const auto& s : scopes)
    if (!is_valid_scope_token(s)) return make_error("\"" + s + "\" is not a valid scope (RFC 6749 §3.3)");
  if (auto problem = api_scope_problem(scopes)) return make_error(*problem);
  if (scopes.empty() || scopes.count(kAllScopes)) return std::optional<std::string>();
  return std::optional<std::string>(join_scopes(scopes));
}

// The redirect URIs the options name, presets expanded, each once; `prefix`
// is "" for client add, "add-" or "remove-" for client update. URIs to add
// must also be acceptable (`checked`); what to remove is matched exactly.
Result<std::vector<std::string>> redirect_uris_of(Invocation& inv, const std::string& prefix, bool checked = true) {
  std::vector<std::string> uris;
  auto add = [&](const std::string& u) {
    if (std::find(uris.begin(), uris.end(), u) == uris.end()) uris.push_back(u);
  };
  for (const auto& u : inv.all(prefix + "redirect-uri")) add(u);
  for (const auto& id : inv.all(prefix + "chatgpt-callback")) {
    if (!valid_name(id)) return make_error("--" + prefix + "chatgpt-callback takes a GPT or plugin id such as g-abc123");
    for (const auto& u : chatgpt_callback_uris(id)) add(u);
  }
  for (const auto& connector : inv.all(prefix + "connector")) {
    auto preset = connector_callback_uris(connector);
    if (preset.empty()) return make_error("--" + prefix + "connector takes chatgpt or claude");
    for (const auto& u : preset) add(u);
  }
  if (checked)
    for (const auto& u : uris)
      if (!is_acceptable_redirect_uri(u))
        return make_error("redirect URI \"" + u + "\" must be https, or http on a loopback host, without a fragment");
  return uris;
}

int client_add(Invocation& inv) {
  const std::string name = inv.get("name");
  if (name.empty() || name.size() > 128) return usage_error(inv, "client add needs --name (1–128 characters)");
  if (!is_plain_text(name))
    return usage_error(inv, "--name may not contain control characters or bidirectional overrides");
  // SPEC §4: client_credentials is the operator's to give, and only with an
  // explicit scope: its tokens have no user whose roles would bound them.
  const bool client_credentials = inv.has("grant");
  if (client_credentials && inv.get("grant") != "client_credentials")
    return usage_error(inv, "--grant takes client_credentials (the other grants every client has)");
  auto named = redirect_uris_of(inv, "");
  if (!named) return usage_error(inv, named.error().message);
  const std::vector<std::string>& uris = *named;
  // SPEC §3 /introspect: a resource server that may introspect every token,
  // API keys and service tokens included. It needs no redirect URI.
  const bool introspect = inv.has("introspect");
  if (uris.empty() && !client_credentials && !introspect)
    return usage_error(inv, "client add needs at least one --redirect-uri, --chatgpt-callback or --connector");
  auto scope = scope_value(inv.get("scope"));
  if (!scope) return usage_error(inv, scope.error().message);
  const bool is_public = inv.has("public");
  if (client_credentials && is_public)
    return usage_error(inv, "--grant client_credentials needs a confidential client (it cannot be --public)");
  if (introspect && is_public)
    return usage_error(inv, "--introspect needs a confidential client (it cannot be --public): /introspect "
                            "authenticates the caller with its secret");
  if (client_credentials && !*scope)
    return usage_error(inv,
                       "--grant client_credentials needs an explicit --scope \"a b\" (its tokens have no user, so "
                       "they carry only the scopes you name)");
  ScopeSet grants;
  if (!uris.empty()) grants = {"authorization_code", "refresh_token"};  // a code flow needs a redirect URI
  if (client_credentials) grants.insert("client_credentials");
  return with_app(inv, [&](App& app) {
    store::ClientRecord c;
    c.client_id = "cl_" + hex_encode(app.random.bytes(12));
    c.name = name;
    c.is_public = is_public;
    c.redirect_uris = uris;
    c.scope = *scope;
    c.grant_types = join_scopes(grants);
    c.introspect = introspect;
    c.created_at = app.clock.now();
    std::string secret;
    if (!is_public) {
      auto minted = app.crypto->mint_token(TokenType::ClientSecret, app.random);
      secret = minted.token;
      c.secret_hash = minted.hash;
    }
    if (!app.store->insert_client(c)) return fail(inv, "client id collision; try again");
    app.store->append_audit_events({{c.created_at, "client_added", "", c.client_id, "", "", 0, "cli", name}});
    if (inv.json) {
      auto o = client_json(c);
      if (!is_public) o["client_secret"] = picojson::value(secret);
      print_json(inv, picojson::value(o));
    } else {
      *inv.out << "client_id:     " << c.client_id << "\n";
      if (!is_public) *inv.out << "client_secret: " << secret << "\n";
      for (const auto& u : uris) *inv.out << "redirect_uri:  " << u << "\n";
      *inv.out << "grant_types:   " << c.grant_types << "\n";
      if (introspect) *inv.out << "introspect:    every token (a resource server)\n";
      *inv.err << "plugauth: " << (is_public ? "public client (PKCE required)" : "the secret is shown only now; store it")
               << (!uris.empty()          ? ". Next: plugauth manifest --type oauth --client " + c.client_id
                   : client_credentials ? ". Next: POST /token with grant_type=client_credentials and this id and secret"
                                        : ". Next: POST /introspect with this id and secret")
               << "\n";
    }
    return kExitOk;
  });
}

int client_list(Invocation& inv) {
  return with_app(inv, [&](App& app) {
    auto clients = app.store->clients();
    if (inv.json) {
      picojson::array arr;
      for (const auto& c : clients) arr.emplace_back(client_json(c));
      picojson::object doc;
      doc["clients"] = picojson::value(arr);
      print_json(inv, picojson::value(doc));
    } else {
      for (const auto& c : clients) print_client_text(*inv.out, c);
    }
    return kExitOk;
  });
}

int client_show(Invocation& inv) {
  return with_app(inv, [&](App& app) {
    auto c = app.store->find_client(inv.args[0]);
    if (!c) return fail(inv, "no client \"" + inv.args[0] + "\"");
    if (inv.json) print_json(inv, picojson::value(client_json(*c)));
    else print_client_text(*inv.out, *c);
    return kExitOk;
  });
}

int client_remove(Invocation& inv) {
  return with_app(inv, [&](App& app) {
    if (!app.store->remove_client(inv.args[0])) return fail(inv, "no client \"" + inv.args[0] + "\"");
    app.store->append_audit_events({{app.clock.now(), "client_removed", "", inv.args[0], "", "", 0, "cli", ""}});
    picojson::object o;
    o["removed"] = picojson::value(inv.args[0]);
    if (inv.json) print_json(inv, picojson::value(o));
    else *inv.out << "removed client " << inv.args[0] << " and every token issued to it\n";
    return kExitOk;
  });
}

int client_set_scope(Invocation& inv) {
  auto scope = scope_value(inv.args[1]);
  if (!scope) return usage_error(inv, scope.error().message);
  return with_app(inv, [&](App& app) {
    auto client = app.store->find_client(inv.args[0]);
    if (!client) return fail(inv, "no client \"" + inv.args[0] + "\"");
    if (!*scope && parse_scopes(client->grant_types).count("client_credentials"))
      return usage_error(inv, "client " + client->client_id +
                                  " has the client_credentials grant, which needs an explicit scope (not \"*\")");
    if (!app.store->set_client_scope(inv.args[0], *scope)) return fail(inv, "no client \"" + inv.args[0] + "\"");
    app.store->append_audit_events(
        {{app.clock.now(), "client_scope_set", "", inv.args[0], "", "", 0, "cli", scope->value_or("(any)")}});
    picojson::object o;
    o["client_id"] = picojson::value(inv.args[0]);
    o["scope"] = *scope ? picojson::value(**scope) : picojson::value();
    if (inv.json) print_json(inv, picojson::value(o));
    else *inv.out << "client " << inv.args[0] << " may now request: " << scope->value_or("any known scope") << "\n";
    return kExitOk;
  });
}

// An operator's edit of a client it created: its name, and redirect URIs
// added or removed, named or by preset (a client that registered itself or
// is a metadata document changes only there). Codes already sent to a
// removed URI end with it (check_authorization_code).
int client_update(Invocation& inv) {
  auto added = redirect_uris_of(inv, "add-");
  if (!added) return usage_error(inv, added.error().message);
  auto to_remove = redirect_uris_of(inv, "remove-", false);
  if (!to_remove) return usage_error(inv, to_remove.error().message);
  const std::vector<std::string>& removed = *to_remove;
  for (const auto& u : removed)
    if (std::find(added->begin(), added->end(), u) != added->end())
      return usage_error(inv, "\"" + u + "\" is both added and removed");
  const bool renames = inv.has("name");
  const std::string name = inv.get("name");
  if (renames && (name.empty() || name.size() > 128)) return usage_error(inv, "--name takes 1–128 characters");
  if (renames && !is_plain_text(name))
    return usage_error(inv, "--name may not contain control characters or bidirectional overrides");
  if (added->empty() && removed.empty() && !renames)
    return usage_error(inv,
                       "client update needs --name, --add-… or --remove-redirect-uri, --remove-chatgpt-callback, "
                       "--remove-connector");
  return with_app(inv, [&](App& app) {
    auto client = app.store->find_client(inv.args[0]);
    if (!client) return fail(inv, "no client \"" + inv.args[0] + "\"");
    if (client->registration != "cli")
      return fail(inv, "client " + client->client_id + " registered itself; its name and redirect URIs are its own");
    std::vector<std::string> uris;
    for (const auto& u : client->redirect_uris)
      if (std::find(removed.begin(), removed.end(), u) == removed.end()) uris.push_back(u);
    // A URI to remove that the client does not have is a typo the operator
    // must hear about: the wrong callback would stay.
    for (const auto& u : removed)
      if (std::find(client->redirect_uris.begin(), client->redirect_uris.end(), u) == client->redirect_uris.end())
        return fail(inv, "client " + client->client_id + " has no redirect URI \"" + u + "\" (nothing changed)");
    for (const auto& u : *added)
      if (std::find(uris.begin(), uris.end(), u) == uris.end()) uris.push_back(u);
    if (uris.size() > 20) return usage_error(inv, "a client has at most 20 redirect URIs");
    const bool code_flow = parse_scopes(client->grant_types).count("authorization_code") > 0;
    if (code_flow && uris.empty())
      return fail(inv, "client " + client->client_id +
                           " would have no redirect URI left (add the right one in the same command)");
    const std::string new_name = renames ? name : client->name;
    if (!app.store->update_client(client->client_id, new_name, client->redirect_uris, uris))
      return fail(inv, "client " + client->client_id + " changed or was removed meanwhile; nothing changed, run it again");
    std::string list;
    for (const auto& u : uris) list += (list.empty() ? "" : " ") + u;
    app.store->append_audit_events({{app.clock.now(), "client_updated", "", client->client_id, "", "", 0, "cli",
                                     (renames ? "name=" + new_name + " " : std::string()) + "redirect_uris=" + list}});
    picojson::object o;
    o["client_id"] = picojson::value(client->client_id);
    o["name"] = picojson::value(new_name);
    picojson::array a;
    for (const auto& u : uris) a.emplace_back(u);
    o["redirect_uris"] = picojson::value(a);
    if (inv.json) {
      print_json(inv, picojson::value(o));
    } else {
      *inv.out << "client_id:     " << client->client_id << "\nname:          " << new_name << "\n";
      for (const auto& u : uris) *inv.out << "redirect_uri:  " << u << "\n";
    }
    return kExitOk;
  });
}

int client_rotate_secret(Invocation& inv) {
  return with_app(inv, [&](App& app) {
    auto c = app.store->find_client(inv.args[0]);
    if (!c) return fail(inv, "no client \"" + inv.args[0] + "\"");
    if (c->is_public) return fail(inv, "client " + c->client_id + " is public and has no secret");
    auto minted = app.crypto->mint_token(TokenType::ClientSecret, app.random);
    app.store->set_client_secret(c->client_id, minted.hash);
    app.store->append_audit_events({{app.clock.now(), "client_secret_rotated", "", c->client_id, "", "", 0, "cli", ""}});
    if (inv.json) {
      picojson::object o;
      o["client_id"] = picojson::value(c->client_id);
      o["client_secret"] = picojson::value(minted.token);
      print_json(inv, picojson::value(o));
    } else {
      *inv.out << minted.token << "\n";
      *inv.err << "plugauth: new secret for " << c->client_id << "; the old one no longer works. Shown only now.\n";
    }
    return kExitOk;
  });
}

int token_revoke(Invocation& inv) {
  const int given = inv.has("jti") + inv.has("user") + inv.has("client");
  if (given != 1) return usage_error(inv, "token revoke needs exactly one of --jti, --user, --client");
  return with_app(inv, [&](App& app) {
    const int64_t now = app.clock.now();
    std::string what;
    if (inv.has("jti")) {
      if (!app.store->revoke_access_token(inv.get("jti"), now)) return fail(inv, "no token with jti " + inv.get("jti"));
      what = "token " + inv.get("jti") + " and its grant";
    } else if (inv.has("user")) {
      auto user = app.store->find_user_by_name(inv.get("user"));
      if (!user) return fail(inv, "no user \"" + inv.get("user") + "\"");
      // Sessions too: a browser still signed in would approve a new grant.
      const EndedSignIns ended = end_user_sign_ins(*app.store, app.clock, user->id, std::nullopt, nullptr);
      what = std::to_string(ended.grants) + " grant(s) and " + std::to_string(ended.sessions) +
             " sign-in session(s) of user " + user->name;
    } else {
      if (!app.store->find_client(inv.get("client"))) return fail(inv, "no client \"" + inv.get("client") + "\"");
      int n = app.store->revoke_client_grants(inv.get("client"), now);
      what = std::to_string(n) + " grant(s) of client " + inv.get("client");
    }
    app.store->append_audit_events({{now, "tokens_revoked", inv.get("user"), inv.get("client"), inv.get("jti"), "", 0,
                                     "cli", what}});
    picojson::object o;
    o["revoked"] = picojson::value(what);
    if (inv.json) print_json(inv, picojson::value(o));
    else *inv.out << "revoked " << what << "; the daemon refuses them within a second\n";
    return kExitOk;
  });
}

int registration_token_create(Invocation& inv) {
  std::optional<int64_t> lifetime = 7 * 86400;
  if (inv.has("expires")) {
    lifetime = parse_duration(inv.get("expires"));
    if (!lifetime) return usage_error(inv, "--expires takes seconds or a number with s, m, h or d (e.g. 7d)");
  }
  return with_app(inv, [&](App& app) {
    auto minted = app.crypto->mint_token(TokenType::RegistrationToken, app.random);
    const int64_t now = app.clock.now();
    app.store->insert_registration_token({minted.id, minted.hash, now, now + *lifetime, {}});
    if (app.config.registration != "token")
      *inv.err << "plugauth: note: the config has registration \"" << app.config.registration
               << "\"; initial access tokens are checked only with \"registration\": \"token\"\n";
    if (inv.json) {
      picojson::object o;
      o["token_id"] = picojson::value(minted.id);
      o["token"] = picojson::value(minted.token);
      o["expires_at"] = picojson::value(iso_time(now + *lifetime));
      print_json(inv, picojson::value(o));
    } else {
      *inv.out << minted.token << "\n";
      *inv.err << "plugauth: initial access token " << minted.id << ", expires " << iso_time(now + *lifetime)
               << "; shown only now. Clients send it as `Authorization: Bearer …` to /register.\n";
    }
    return kExitOk;
  });
}

int registration_token_list(Invocation& inv) {
  return with_app(inv, [&](App& app) {
    auto tokens = app.store->registration_tokens();
    if (inv.json) {
      picojson::array arr;
      for (const auto& t : tokens) {
        picojson::object o;
        o["token_id"] = picojson::value(t.token_id);
        o["created_at"] = picojson::value(iso_time(t.created_at));
        o["expires_at"] = json_time(t.expires_at);
        o["revoked_at"] = json_time(t.revoked_at);
        arr.emplace_back(o);
      }
      picojson::object doc;
      doc["registration_tokens"] = picojson::value(arr);
      print_json(inv, picojson::value(doc));
    } else {
      for (const auto& t : tokens)
        *inv.out << t.token_id << "  created " << iso_time(t.created_at)
                 << (t.expires_at ? "  expires " + iso_time(*t.expires_at) : "")
                 << (t.revoked_at ? "  REVOKED " + iso_time(*t.revoked_at) : "") << "\n";
    }
    return kExitOk;
  });
}

int registration_token_revoke(Invocation& inv) {
  return with_app(inv, [&](App& app) {
    if (!app.store->revoke_registration_token(inv.args[0], app.clock.now()))
      return fail(inv, "no active registration token \"" + inv.args[0] + "\"");
    picojson::object o;
    o["revoked"] = picojson::value(inv.args[0]);
    if (inv.json) print_json(inv, picojson::value(o));
    else *inv.out << "revoked registration token " << inv.args[0] << "\n";
    return kExitOk;
  });
}

}  // namespace

void register_client_commands(Cli& cli) {
  cli.add({{"registration-token", "create"}, "", "create an initial access token for /register (registration: token)",
           {{"expires", "DURATION", "lifetime (default 7d)"}}, 0, 0, registration_token_create});
  cli.add({{"registration-token", "list"}, "", "list initial access tokens", {}, 0, 0, registration_token_list});
  cli.add({{"registration-token", "revoke"}, "ID", "revoke an initial access token", {}, 1, 1,
           registration_token_revoke});
  cli.add({{"client", "add"}, "", "register an OAuth client (prints its id and secret once)",
           {{"name", "NAME", "the name the consent page shows"},
            {"redirect-uri", "URI", "an exact redirect URI (repeatable)", true},
            {"chatgpt-callback", "ID", "register ChatGPT's two callback URIs for this GPT/plugin id (repeatable)", true},
            {"connector", "chatgpt|claude",
             "register the callbacks of ChatGPT apps (connector_platform_oauth_redirect) or Claude (claude.ai and "
             "claude.com) (repeatable)",
             true},
            {"scope", "\"a b\"", "scopes the client may request (default: any known scope)"},
            {"public", "", "a public client: no secret, PKCE required"},
            {"grant", "client_credentials",
             "also let the client act for itself (needs --scope; then --redirect-uri is optional)"},
            {"introspect", "", "a resource server: may introspect every token (then --redirect-uri is optional)"}},
           0, 0, client_add});
  cli.add({{"client", "update"}, "ID", "rename a client you created, add or remove its redirect URIs",
           {{"name", "NAME", "the name the consent page shows"},
            {"add-redirect-uri", "URI", "an exact redirect URI (repeatable)", true},
            {"add-chatgpt-callback", "ID", "ChatGPT's two callback URIs for this GPT/plugin id (repeatable)", true},
            {"add-connector", "chatgpt|claude", "the callbacks of ChatGPT apps or Claude (repeatable)", true},
            {"remove-redirect-uri", "URI",
             "a redirect URI to remove; codes already sent there stop working (repeatable)", true},
            {"remove-chatgpt-callback", "ID", "remove ChatGPT's two callback URIs for this id (repeatable)", true},
            {"remove-connector", "chatgpt|claude", "remove the callbacks of ChatGPT apps or Claude (repeatable)",
             true}},
           1, 1, client_update});
  cli.add({{"client", "list"}, "", "list OAuth clients", {}, 0, 0, client_list});
  cli.add({{"client", "show"}, "ID", "show one client", {}, 1, 1, client_show});
  cli.add({{"client", "remove"}, "ID", "remove a client and every token issued to it", {}, 1, 1, client_remove});
  cli.add({{"client", "set-scope"}, "ID \"a b\"", "set the scopes a client may request (\"*\": any)", {}, 2, 2,
           client_set_scope});
  cli.add({{"client", "rotate-secret"}, "ID", "give a client a new secret (printed once)", {}, 1, 1,
           client_rotate_secret});
  cli.add({{"token", "revoke"}, "", "revoke access and refresh tokens",
           {{"jti", "ID", "one access token (and its grant)"},
            {"user", "NAME", "every grant of a user"},
            {"client", "ID", "every grant of a client"}},
           0, 0, token_revoke});
}

}  // namespace plugauth::cli

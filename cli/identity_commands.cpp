// user, role, key and verification-token commands.
#include "cli/identity_commands.h"

#include <termios.h>
#include <unistd.h>

#include <functional>
#include <iostream>
#include <set>

#include "auth/base64url.h"
#include "auth/passwords.h"
#include "auth/scopes.h"
#include "auth/sign_ins.h"
#include "auth/two_step.h"
#include "cli/format.h"
#include "config/duration.h"

namespace plugauth::cli {
namespace {

std::string read_line_no_echo(const char* prompt) {
  std::cerr << prompt << std::flush;
  termios old{};
  bool restore = tcgetattr(STDIN_FILENO, &old) == 0;
  if (restore) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string line;
  std::getline(std::cin, line);
  if (restore) tcsetattr(STDIN_FILENO, TCSANOW, &old);
  std::cerr << "\n";
  return line;
}

// --password-stdin: one line, newline stripped. On a terminal: asked twice.
// At least `min_length` characters (code points, not bytes).
Result<std::string> read_password(Invocation& inv, int min_length) {
  std::string password;
  if (inv.has("password-stdin")) {
    if (!std::getline(*inv.in, password)) return make_error("no password on standard input");
    if (!password.empty() && password.back() == '\r') password.pop_back();
  } else if (inv.in == &std::cin && isatty(STDIN_FILENO)) {
    password = read_line_no_echo("Password: ");
    if (read_line_no_echo("Repeat password: ") != password) return make_error("the passwords differ");
  } else {
    return make_error("standard input is not a terminal: pass --password-stdin and the password on one line");
  }
  if (password.empty()) return make_error("refusing an empty password");
  if (password.size() > kMaxPasswordBytes) return make_error("the password is longer than 1024 bytes");
  size_t characters = 0;
  for (unsigned char c : password) characters += (c & 0xC0) != 0x80 ? 1 : 0;
  if (characters < static_cast<size_t>(min_length))
    return make_error("refusing a password shorter than " + std::to_string(min_length) +
                      " characters (password_min_length)");
  return password;
}

// A random user id (the `sub`): "u_" + 24 hex digits, never one used before.
std::string new_user_id(App& app) {
  for (;;) {
    std::string id = "u_" + hex_encode(app.random.bytes(12));
    if (!app.store->user_id_ever_used(id)) return id;
  }
}

Result<ScopeSet> scope_option(const Invocation& inv, bool allow_wildcard) {
  ScopeSet scopes = parse_scopes(inv.get("scope"));
  for (const auto& s : scopes) {
    if (allow_wildcard && s == kAllScopes) continue;
    if (!is_valid_scope_token(s)) return make_error("\"" + s + "\" is not a valid scope (RFC 6749 §3.3)");
  }
  if (auto problem = api_scope_problem(scopes)) return make_error(*problem);
  return scopes;
}

void print_ok(Invocation& inv, const std::string& text, picojson::object doc) {
  if (inv.json) print_json(inv, picojson::value(std::move(doc)));
  else *inv.out << text << "\n";
}

picojson::value string_array(const std::vector<std::string>& v) {
  picojson::array a;
  for (const auto& s : v) a.emplace_back(s);
  return picojson::value(std::move(a));
}

// --- user ----------------------------------------------------------------

int user_add(Invocation& inv) {
  const std::string name = inv.args[0];
  if (!valid_name(name)) return usage_error(inv, "user names are 1–64 of A-Z a-z 0-9 . _ @ + -");
  return with_app(inv, [&](App& app) {
    std::vector<std::string> roles = {"user"};
    std::set<std::string> existing;
    for (const auto& r : app.store->roles()) existing.insert(r.name);
    for (const auto& r : inv.all("role")) {
      if (!existing.count(r)) return fail(inv, "no role \"" + r + "\"; create it with `plugauth role add " + r + " --scope ...`");
      if (r != "user") roles.push_back(r);
    }
    if (app.store->find_user_by_name(name)) return fail(inv, "user \"" + name + "\" already exists");
    auto password = read_password(inv, app.config.password_min_length);
    if (!password) return fail(inv, password.error().message);
    auto hash = hash_password(*password);
    if (!hash) return fail(inv, hash.error().message);
    store::UserRecord user{new_user_id(app), name, *hash, roles, false, 0};
    if (!app.store->create_user(user, app.clock.now())) return fail(inv, "user \"" + name + "\" already exists");
    app.store->append_audit_events({{app.clock.now(), "user_added", user.id, "", "", "", 0, "cli", "name=" + name}});
    picojson::object doc;
    doc["name"] = picojson::value(name);
    doc["sub"] = picojson::value(user.id);
    doc["roles"] = string_array(roles);
    print_ok(inv, "created user " + name + " (sub " + user.id + ")", doc);
    return kExitOk;
  });
}

int user_list(Invocation& inv) {
  return with_app(inv, [&](App& app) {
    auto users = app.store->users();
    if (inv.json) {
      picojson::array arr;
      for (const auto& u : users) {
        picojson::object o;
        o["name"] = picojson::value(u.name);
        o["sub"] = picojson::value(u.id);
        o["roles"] = string_array(u.roles);
        o["mfa"] = picojson::value(u.mfa);
        o["created_at"] = picojson::value(iso_time(u.created_at));
        arr.emplace_back(std::move(o));
      }
      picojson::object doc;
      doc["users"] = picojson::value(std::move(arr));
      print_json(inv, picojson::value(std::move(doc)));
      return kExitOk;
    }
    for (const auto& u : users) {
      std::string roles;
      for (const auto& r : u.roles) roles += (roles.empty() ? "" : ",") + r;
      *inv.out << u.name << "  " << u.id << "  roles=" << roles << (u.mfa ? "  mfa" : "") << "  created "
               << iso_time(u.created_at) << "\n";
    }
    return kExitOk;
  });
}

int user_remove(Invocation& inv) {
  return with_app(inv, [&](App& app) {
    auto user = app.store->find_user_by_name(inv.args[0]);
    if (!user || !app.store->remove_user(inv.args[0], app.clock.now()))
      return fail(inv, "no user \"" + inv.args[0] + "\"");
    app.store->append_audit_events({{app.clock.now(), "user_removed", user->id, "", "", "", 0, "cli", "name=" + user->name}});
    picojson::object doc;
    doc["removed"] = picojson::value(user->name);
    print_ok(inv, "removed user " + user->name + " and their keys", doc);
    return kExitOk;
  });
}

std::string ended_detail(const EndedSignIns& ended) {
  return "ended " + std::to_string(ended.sessions) + " session(s), " + std::to_string(ended.grants) + " grant(s)";
}

int user_passwd(Invocation& inv) {
  return with_app(inv, [&](App& app) {
    auto user = app.store->find_user_by_name(inv.args[0]);
    if (!user) return fail(inv, "no user \"" + inv.args[0] + "\"");
    auto password = read_password(inv, app.config.password_min_length);
    if (!password) return fail(inv, password.error().message);
    auto hash = hash_password(*password);
    if (!hash) return fail(inv, hash.error().message);
    app.store->set_password(user->name, *hash, app.clock.now());
    // After the new hash is stored, so no sign-in with the old password
    // can start after this and survive it (SPEC §8.15).
    const EndedSignIns ended = end_user_sign_ins(*app.store, app.clock, user->id, std::nullopt, nullptr);
    app.store->append_audit_events({{app.clock.now(), "password_changed", user->id, "", "", "", 0, "cli",
                                     ended_detail(ended)}});
    picojson::object doc;
    doc["name"] = picojson::value(user->name);
    doc["sessions_ended"] = picojson::value(static_cast<double>(ended.sessions));
    doc["grants_revoked"] = picojson::value(static_cast<double>(ended.grants));
    print_ok(inv,
             "changed the password of " + user->name + "; ended " + std::to_string(ended.sessions) +
                 " sign-in session(s) and " + std::to_string(ended.grants) +
                 " OAuth grant(s) (the daemon refuses them within a second); API keys stay",
             doc);
    return kExitOk;
  });
}

// Two-step sign-in (TOTP). The secret is shown once, here.
int user_mfa_enable(Invocation& inv) {
  return with_app(inv, [&](App& app) {
    auto user = app.store->find_user_by_name(inv.args[0]);
    if (!user) return fail(inv, "no user \"" + inv.args[0] + "\"");
    if (user->mfa)
      return fail(inv, user->name + " already has two-step sign-in; `user mfa disable " + user->name +
                           "` first to give them a new secret");
    const TotpSetup setup = new_totp_setup(app.random, app.config.issuer, *user);
    app.store->set_user_totp(user->id, seal_totp_secret(*app.crypto, app.random, user->id, setup.secret),
                             app.clock.now());
    // After the secret is stored, so no sign-in without a code can start
    // after this and survive it (SPEC §8.15).
    const EndedSignIns ended = end_user_sign_ins(*app.store, app.clock, user->id, std::nullopt, nullptr);
    app.store->append_audit_events({{app.clock.now(), "mfa_enabled", user->id, "", "", "", 0, "cli",
                                     ended_detail(ended)}});
    picojson::object doc;
    doc["name"] = picojson::value(user->name);
    doc["secret"] = picojson::value(setup.secret_base32);
    doc["otpauth_uri"] = picojson::value(setup.otpauth_uri);
    doc["sessions_ended"] = picojson::value(static_cast<double>(ended.sessions));
    doc["grants_revoked"] = picojson::value(static_cast<double>(ended.grants));
    print_ok(inv,
             "two-step sign-in is on for " + user->name + "; ended " + std::to_string(ended.sessions) +
                 " sign-in session(s) and " + std::to_string(ended.grants) +
                 " OAuth grant(s) made without it (the daemon refuses them within a second); API keys stay."
                 "\nAdd this secret to their authenticator app now; it is not shown again:\n  secret  " +
                 setup.secret_base32 + "\n  uri     " + setup.otpauth_uri,
             doc);
    return kExitOk;
  });
}

int user_mfa_disable(Invocation& inv) {
  return with_app(inv, [&](App& app) {
    auto user = app.store->find_user_by_name(inv.args[0]);
    if (!user) return fail(inv, "no user \"" + inv.args[0] + "\"");
    app.store->set_user_totp(user->id, std::nullopt, app.clock.now());
    if (user->mfa)
      app.store->append_audit_events({{app.clock.now(), "mfa_disabled", user->id, "", "", "", 0, "cli", ""}});
    picojson::object doc;
    doc["name"] = picojson::value(user->name);
    print_ok(inv, user->mfa ? "two-step sign-in is off for " + user->name : user->name + " had no two-step sign-in",
             doc);
    return kExitOk;
  });
}

// Sign-in failures so far stop counting against the account (SPEC §8.9);
// the daemon sees it at the account's next sign-in.
int user_unlock(Invocation& inv) {
  return with_app(inv, [&](App& app) {
    auto user = app.store->find_user_by_name(inv.args[0]);
    if (!user || !app.store->unlock_user(user->name, app.clock.now()))
      return fail(inv, "no user \"" + inv.args[0] + "\"");
    app.store->append_audit_events({{app.clock.now(), "user_unlocked", user->id, "", "", "", 0, "cli", ""}});
    picojson::object doc;
    doc["name"] = picojson::value(user->name);
    print_ok(inv, "unlocked " + user->name + ": earlier failed sign-ins no longer count", doc);
    return kExitOk;
  });
}

// --- role ----------------------------------------------------------------

int role_add(Invocation& inv) {
  const std::string name = inv.args[0];
  if (!valid_name(name)) return usage_error(inv, "role names are 1–64 of A-Z a-z 0-9 . _ @ + -");
  if (!inv.has("scope")) return usage_error(inv, "role add needs --scope \"a b\" (or \"*\" for every known scope)");
  auto scopes = scope_option(inv, true);
  if (!scopes) return usage_error(inv, scopes.error().message);
  return with_app(inv, [&](App& app) {
    const std::string joined = scopes->count(kAllScopes) ? std::string(kAllScopes) : join_scopes(*scopes);
    // `role add` replaces a role's scopes; what it drops is said, so a
    // second example's `role add user` does not silently undo the first's.
    std::string dropped;
    for (const auto& r : app.store->roles()) {
      if (r.name != name || joined == kAllScopes || r.scopes == kAllScopes) continue;
      for (const auto& s : parse_scopes(r.scopes))
        if (!scopes->count(s)) dropped += (dropped.empty() ? "" : " ") + s;
    }
    if (!dropped.empty())
      *inv.err << "plugauth: note: role " << name << " no longer grants \"" << dropped
               << "\" (role add replaces its scopes; name them all to keep them)\n";
    app.store->upsert_role(name, joined, app.clock.now());
    app.store->append_audit_events({{app.clock.now(), "role_set", "", "", "", "", 0, "cli", name + "=" + joined}});
    if (name != "user") {
      for (const auto& r : app.store->roles())
        if (r.name == "user" && r.scopes == kAllScopes)
          *inv.err << "plugauth: note: the built-in role `user`, which every user has, grants every known scope,"
                      " now including \"" << joined << "\"; restrict it with `plugauth role add user --scope \"...\"`\n";
    }
    picojson::object doc;
    doc["name"] = picojson::value(name);
    doc["scope"] = picojson::value(joined);
    print_ok(inv, "role " + name + ": " + joined, doc);
    return kExitOk;
  });
}

int role_list(Invocation& inv) {
  return with_app(inv, [&](App& app) {
    auto roles = app.store->roles();
    if (inv.json) {
      picojson::array arr;
      for (const auto& r : roles) {
        picojson::object o;
        o["name"] = picojson::value(r.name);
        o["scope"] = picojson::value(r.scopes);
        arr.emplace_back(std::move(o));
      }
      picojson::object doc;
      doc["roles"] = picojson::value(std::move(arr));
      print_json(inv, picojson::value(std::move(doc)));
      return kExitOk;
    }
    for (const auto& r : roles) *inv.out << r.name << "  " << r.scopes << "\n";
    return kExitOk;
  });
}

int role_remove(Invocation& inv) {
  if (inv.args[0] == "user") return fail(inv, "the built-in role `user` cannot be removed; change its scopes instead");
  return with_app(inv, [&](App& app) {
    if (!app.store->remove_role(inv.args[0])) return fail(inv, "no role \"" + inv.args[0] + "\"");
    app.store->append_audit_events({{app.clock.now(), "role_removed", "", "", "", "", 0, "cli", inv.args[0]}});
    picojson::object doc;
    doc["removed"] = picojson::value(inv.args[0]);
    print_ok(inv, "removed role " + inv.args[0], doc);
    return kExitOk;
  });
}

// --- key -----------------------------------------------------------------

int key_create(Invocation& inv) {
  const bool for_user = inv.has("user"), for_service = inv.has("service");
  if (for_user == for_service) return usage_error(inv, "key create needs exactly one of --user NAME or --service NAME");
  auto scopes = scope_option(inv, false);
  if (!scopes) return usage_error(inv, scopes.error().message);
  std::optional<int64_t> lifetime;
  if (inv.has("expires")) {
    lifetime = parse_duration(inv.get("expires"));
    if (!lifetime) return usage_error(inv, "--expires takes seconds or a number with s, m, h or d (e.g. 90d)");
  }
  const std::string label = inv.get("name");
  if (label.size() > 128) return usage_error(inv, "--name is at most 128 characters");
  return with_app(inv, [&](App& app) {
    store::ApiKeyRecord rec;
    if (for_user) {
      auto user = app.store->find_user_by_name(inv.get("user"));
      if (!user) return fail(inv, "no user \"" + inv.get("user") + "\"");
      rec.kind = "user";
      rec.user_id = user->id;
      rec.user_name = user->name;
    } else {
      if (!valid_name(inv.get("service"))) return usage_error(inv, "service names are 1–64 of A-Z a-z 0-9 . _ @ + -");
      rec.kind = "service";
      rec.service = inv.get("service");
    }
    auto minted = app.crypto->mint_token(for_user ? TokenType::ApiKey : TokenType::ServiceToken, app.random);
    const int64_t now = app.clock.now();
    rec.key_id = minted.id;
    rec.secret_hash = minted.hash;
    rec.name = label;
    if (inv.has("scope")) rec.scope = join_scopes(*scopes);
    rec.created_at = now;
    if (lifetime) rec.expires_at = now + *lifetime;
    app.store->insert_api_key(rec);
    app.store->append_audit_events({{now, "key_created", for_user ? rec.user_id : "service:" + rec.service, "",
                                     rec.key_id, "", 0, "cli", rec.scope.value_or("")}});
    if (inv.json) {
      picojson::object doc;
      doc["key_id"] = picojson::value(rec.key_id);
      doc["key"] = picojson::value(minted.token);
      doc["type"] = picojson::value(for_user ? "api_key" : "service");
      if (for_user) doc["user"] = picojson::value(rec.user_name);
      else doc["service"] = picojson::value(rec.service);
      doc["scope"] = rec.scope ? picojson::value(*rec.scope) : picojson::value();
      doc["expires_at"] = json_time(rec.expires_at);
      print_json(inv, picojson::value(std::move(doc)));
    } else {
      *inv.out << minted.token << "\n";
      *inv.err << "plugauth: created " << (for_user ? "API key for user " + rec.user_name : "service token for " + rec.service)
               << ", key id " << rec.key_id << (rec.expires_at ? ", expires " + iso_time(*rec.expires_at) : "")
               << ".\nplugauth: this is the only time the key is shown; store it now.\n";
    }
    return kExitOk;
  });
}

int key_list(Invocation& inv) {
  return with_app(inv, [&](App& app) {
    std::optional<std::string> user;
    if (inv.has("user")) {
      if (!app.store->find_user_by_name(inv.get("user"))) return fail(inv, "no user \"" + inv.get("user") + "\"");
      user = inv.get("user");
    }
    auto keys = app.store->api_keys(user);
    const int64_t now = app.clock.now();  // an expired key is marked: /verify refuses it
    if (inv.json) {
      picojson::array arr;
      for (const auto& k : keys) {
        picojson::object o;
        o["key_id"] = picojson::value(k.key_id);
        o["type"] = picojson::value(k.kind == "user" ? "api_key" : "service");
        if (k.kind == "user") o["user"] = picojson::value(k.user_name);
        else o["service"] = picojson::value(k.service);
        o["name"] = picojson::value(k.name);
        o["scope"] = k.scope ? picojson::value(*k.scope) : picojson::value();
        o["created_at"] = picojson::value(iso_time(k.created_at));
        o["last_used_at"] = json_time(k.last_used_at);
        o["expires_at"] = json_time(k.expires_at);
        o["expired"] = picojson::value(k.expires_at && *k.expires_at <= now);
        o["revoked_at"] = json_time(k.revoked_at);
        arr.emplace_back(std::move(o));
      }
      picojson::object doc;
      doc["keys"] = picojson::value(std::move(arr));
      print_json(inv, picojson::value(std::move(doc)));
      return kExitOk;
    }
    for (const auto& k : keys) {
      *inv.out << k.key_id << "  " << (k.kind == "user" ? "user=" + k.user_name : "service=" + k.service)
               << (k.name.empty() ? "" : "  name=" + k.name) << "  scope=" << k.scope.value_or("(roles)")
               << "  created " << iso_time(k.created_at)
               << "  last used " << (k.last_used_at ? iso_time(*k.last_used_at) : "never")
               << (!k.expires_at           ? ""
                   : *k.expires_at <= now ? "  EXPIRED " + iso_time(*k.expires_at)
                                          : "  expires " + iso_time(*k.expires_at))
               << (k.revoked_at ? "  REVOKED " + iso_time(*k.revoked_at) : "") << "\n";
    }
    return kExitOk;
  });
}

int key_revoke(Invocation& inv) {
  return with_app(inv, [&](App& app) {
    auto key = app.store->find_api_key(inv.args[0]);
    if (!key) return fail(inv, "no key \"" + inv.args[0] + "\"");
    if (!app.store->revoke_api_key(inv.args[0], app.clock.now())) return fail(inv, "key " + inv.args[0] + " is already revoked");
    app.store->append_audit_events({{app.clock.now(), "key_revoked",
                                     key->kind == "user" ? key->user_id : "service:" + key->service, "", key->key_id,
                                     "", 0, "cli", ""}});
    picojson::object doc;
    doc["revoked"] = picojson::value(key->key_id);
    print_ok(inv, "revoked key " + key->key_id, doc);
    return kExitOk;
  });
}

// --- verification-token --------------------------------------------------

int vt_set(Invocation& inv) {
  if (!valid_name(inv.args[0])) return usage_error(inv, "service names are 1–64 of A-Z a-z 0-9 . _ @ + -");
  if (inv.args[1].empty() || inv.args[1].size() > 512) return usage_error(inv, "the token must be 1–512 characters");
  return with_app(inv, [&](App& app) {
    app.store->set_verification_token(inv.args[0], inv.args[1], app.clock.now());
    picojson::object doc;
    doc["service"] = picojson::value(inv.args[0]);
    print_ok(inv, "stored the verification token for " + inv.args[0] + "; `plugauth manifest` includes it", doc);
    return kExitOk;
  });
}

int vt_list(Invocation& inv) {
  return with_app(inv, [&](App& app) {
    auto tokens = app.store->verification_tokens();
    if (inv.json) {
      picojson::object map;
      for (const auto& t : tokens) map[t.service] = picojson::value(t.token);
      picojson::object doc;
      doc["verification_tokens"] = picojson::value(std::move(map));
      print_json(inv, picojson::value(std::move(doc)));
      return kExitOk;
    }
    for (const auto& t : tokens) *inv.out << t.service << "  " << t.token << "\n";
    return kExitOk;
  });
}

int vt_remove(Invocation& inv) {
  return with_app(inv, [&](App& app) {
    if (!app.store->remove_verification_token(inv.args[0])) return fail(inv, "no verification token for \"" + inv.args[0] + "\"");
    picojson::object doc;
    doc["removed"] = picojson::value(inv.args[0]);
    print_ok(inv, "removed the verification token for " + inv.args[0], doc);
    return kExitOk;
  });
}

}  // namespace

void register_identity_commands(Cli& cli) {
  const OptionSpec password_stdin{"password-stdin", "", "read the password from one line of standard input"};
  cli.add({{"user", "add"}, "NAME", "create a user (asks for a password)",
           {password_stdin, {"role", "ROLE", "grant a role besides `user` (repeatable)", true}}, 1, 1, user_add});
  cli.add({{"user", "list"}, "", "list users", {}, 0, 0, user_list});
  cli.add({{"user", "remove"}, "NAME", "remove a user and their keys (the sub is never reused)", {}, 1, 1, user_remove});
  cli.add({{"user", "passwd"}, "NAME", "change a user's password", {password_stdin}, 1, 1, user_passwd});
  cli.add({{"user", "mfa", "enable"}, "NAME", "turn on two-step sign-in (TOTP); prints the secret once", {}, 1, 1,
           user_mfa_enable});
  cli.add({{"user", "mfa", "disable"}, "NAME", "turn off two-step sign-in", {}, 1, 1, user_mfa_disable});
  cli.add({{"user", "unlock"}, "NAME", "forget the account's failed sign-ins, ending a lockout", {}, 1, 1,
           user_unlock});
  cli.add({{"role", "add"}, "NAME", "create a role, or replace its scopes",
           {{"scope", "\"a b\"", "the role's scopes; \"*\" for every known scope"}}, 1, 1, role_add});
  cli.add({{"role", "list"}, "", "list roles and their scopes", {}, 0, 0, role_list});
  cli.add({{"role", "remove"}, "NAME", "remove a role", {}, 1, 1, role_remove});
  cli.add({{"key", "create"}, "", "create a user's API key (user_http) or a service token (service_http)",
           {{"user", "NAME", "the user who owns the key"},
            {"service", "NAME", "a service token for this platform (e.g. openai)"},
            {"name", "LABEL", "a label to recognise the key by"},
            {"scope", "\"a b\"", "limit the key to these scopes (default: what the user's roles allow)"},
            {"expires", "DURATION", "lifetime, e.g. 90d (default: never)"}},
           0, 0, key_create});
  cli.add({{"key", "list"}, "", "list keys (never their secrets)", {{"user", "NAME", "only this user's keys"}}, 0, 0,
           key_list});
  cli.add({{"key", "revoke"}, "KEY_ID", "revoke a key; the daemon refuses it within a second", {}, 1, 1, key_revoke});
  cli.add({{"verification-token", "set"}, "SERVICE TOKEN", "store a platform's verification token for the manifest",
           {}, 2, 2, vt_set});
  cli.add({{"verification-token", "list"}, "", "list stored verification tokens", {}, 0, 0, vt_list});
  cli.add({{"verification-token", "remove"}, "SERVICE", "remove a verification token", {}, 1, 1, vt_remove});
}

}  // namespace plugauth::cli

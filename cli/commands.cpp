#include "cli/commands.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <iostream>

#include "cli/app.h"
#include "cli/format.h"
#include "cli/identity_commands.h"
#include "cli/serve.h"
#include "common/log.h"

extern char** environ;

namespace plugauth::cli {
namespace {

int cmd_version(Invocation& inv) {
  if (inv.json) {
    picojson::object o;
    o["version"] = picojson::value(PLUGAUTH_VERSION);
    o["schema_version"] = picojson::value(static_cast<double>(store::Store::latest_schema_version()));
    o["httplib"] = picojson::value("0.18.7-1+deb13u1");
    print_json(inv, picojson::value(o));
  } else {
    *inv.out << "plugauth " << PLUGAUTH_VERSION << " (schema v" << store::Store::latest_schema_version()
             << ", cpp-httplib 0.18.7-1+deb13u1)\n";
  }
  return kExitOk;
}

picojson::value key_info_json(const SigningKeyInfo& k) {
  picojson::object o;
  o["kid"] = picojson::value(k.kid);
  o["alg"] = picojson::value(k.alg);
  o["created_at"] = picojson::value(iso_time(k.created_at));
  o["current"] = picojson::value(k.current);
  o["pending"] = picojson::value(k.pending);
  o["retired_at"] = json_time(k.retired_at);
  o["expires_at"] = json_time(k.expires_at);
  return picojson::value(o);
}

int cmd_signing_key_list(Invocation& inv) {
  auto app = open_app(inv);
  if (!app) return fail(inv, app.error().message);
  print_notices(inv, **app);
  auto keys = (*app)->signing_keys->list();
  if (inv.json) {
    picojson::array arr;
    for (const auto& k : keys) arr.push_back(key_info_json(k));
    picojson::object o;
    o["keys"] = picojson::value(arr);
    print_json(inv, picojson::value(o));
    return kExitOk;
  }
  for (const auto& k : keys) {
    *inv.out << k.kid << "  " << k.alg << "  created " << iso_time(k.created_at);
    if (k.current) *inv.out << "  current";
    if (k.pending) *inv.out << "  pending (in JWKS, signs from " << iso_time(k.created_at) << ")";
    if (k.retired_at) *inv.out << "  retired " << iso_time(*k.retired_at);
    if (k.expires_at) *inv.out << "  verifies until " << iso_time(*k.expires_at);
    *inv.out << "\n";
  }
  return kExitOk;
}

int cmd_signing_key_rotate(Invocation& inv) {
  auto app = open_app(inv);
  if (!app) return fail(inv, app.error().message);
  print_notices(inv, **app);
  App& a = **app;
  // With the daemon's algorithm and token lifetime, not this command's config.
  SigningKeys keys(*a.store, *a.crypto, a.random, a.clock, served_signing_policy(*a.store, *a.signing_keys, a.config));
  auto kid = keys.rotate();
  if (!kid) return fail(inv, kid.error().message);
  if (auto st = a.signing_keys->reload(); !st) return fail(inv, st.error().message);
  for (const auto& k : (*app)->signing_keys->list()) {
    if (k.kid != *kid) continue;
    if (inv.json) print_json(inv, key_info_json(k));
    else
      *inv.out << "new signing key " << k.kid << " (" << k.alg << ") is in JWKS now and signs from "
               << iso_time(k.created_at) << "; earlier keys keep verifying until their tokens expire\n";
  }
  return kExitOk;
}

int cmd_backup(Invocation& inv) {
  const std::string& file = inv.args[0];
  auto app = open_app(inv);
  if (!app) return fail(inv, app.error().message);
  print_notices(inv, **app);
  // Created here, 0600 and exclusively, before SQLite writes into it: the
  // backup holds credential hashes and sealed keys.
  // fchmod: the umask can only take bits away, never give group or others any.
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    const int error = errno;
    return fail(inv, "cannot create " + file + ": " + std::strerror(error) +
                         (error == EACCES && (*app)->became_owner
                              ? " (run as root, a command acts as the data directory's owner: back up to a directory "
                                "that user may write)"
                              : " (it must not exist yet)"));
  }
  const bool private_mode = ::fchmod(fd, 0600) == 0;
  ::close(fd);
  auto st = private_mode ? (*app)->store->backup_to(file) : Status(make_error("cannot make " + file + " mode 0600"));
  // The same rule as the database's (SPEC §6), checked on what was written.
  if (st) {
    if (auto refusal = exposed_files_refusal("backup", {file})) st = make_error(*refusal);
  }
  if (!st) {
    ::unlink(file.c_str());
    return fail(inv, st.error().message);
  }
  std::error_code ec;
  auto bytes = std::filesystem::file_size(file, ec);
  if (inv.json) {
    picojson::object o;
    o["file"] = picojson::value(file);
    o["bytes"] = picojson::value(static_cast<double>(bytes));
    o["master_key"] = picojson::value((*app)->master_key_path);
    print_json(inv, picojson::value(o));
  } else {
    *inv.out << "backed up " << (*app)->store->path() << " to " << file << " (" << bytes << " bytes)\n"
             << "the master key is not in the backup: keep " << (*app)->master_key_path
             << " safe too, or the sealed signing keys cannot be read back\n";
  }
  return kExitOk;
}

struct Check {
  std::string name;
  bool ok;
  std::string detail;
};

int cmd_check(Invocation& inv) {
  std::vector<Check> checks;
  auto config = load_invocation_config(inv);
  if (!config) {
    checks.push_back({"config", false, config.error().message});
  } else {
    checks.push_back({"config", true, config->config_file.empty() ? "defaults (no config file)" : config->config_file});
    auto warnings = config_warnings(*config);
    checks.push_back({"issuer", warnings.empty(), warnings.empty() ? config->issuer : warnings[0]});
    struct stat st {};
    if (::stat(config->data.c_str(), &st) == 0) {
      bool private_dir = (st.st_mode & 022) == 0;
      checks.push_back({"data directory", private_dir,
                        config->data + (private_dir ? "" : " is writable by group or others: chmod 700 " + config->data)});
    }
    // SPEC §6, the rule open_app also enforces: named here on its own line.
    const std::string db_path = database_path(*config);
    const auto exposed = exposed_files_refusal("database", database_files(db_path));
    checks.push_back({"database permissions", !exposed,
                      exposed ? *exposed : db_path + " (and its -wal, -shm): not readable by group or others"});
    auto app = open_app(inv);
    if (!app) {
      checks.push_back({"open", false, app.error().message});
    } else {
      // The issuer the command would use, which is the served one when the
      // settings name none (open_app).
      const auto served = (*app)->store->served_setting("issuer");
      for (auto& c : checks) {
        if (c.name != "issuer") continue;
        if (served && *served != (*app)->config.issuer) {
          c.ok = false;
          c.detail = "the issuer here is " + (*app)->config.issuer + ", but the daemon serves " + *served;
        } else if ((*app)->config.issuer != config->issuer) {
          auto served_warnings = config_warnings((*app)->config);
          c.ok = served_warnings.empty();
          c.detail = c.ok ? (*app)->config.issuer + " (the one serve recorded)" : served_warnings[0];
        }
      }
      checks.push_back({"master key", true, (*app)->master_key_path + " (not readable by group or others)"});
      std::string integrity = (*app)->store->integrity_check();
      checks.push_back({"database", integrity == "ok",
                        (*app)->store->path() + ": " + integrity + ", schema v" +
                            std::to_string((*app)->store->schema_version())});
      bool has_signer = (*app)->signing_keys->current_signer().has_value();
      if (!has_signer && (*app)->signing_keys->list().empty())
        checks.push_back({"signing key", true, "none yet; `plugauth serve` creates one"});
      else
        checks.push_back({"signing key", has_signer, has_signer ? "current key present" : "no current signing key"});
    }
  }
  bool all_ok = true;
  for (const auto& c : checks) all_ok = all_ok && c.ok;
  if (inv.json) {
    picojson::array arr;
    for (const auto& c : checks) {
      picojson::object o;
      o["name"] = picojson::value(c.name);
      o["ok"] = picojson::value(c.ok);
      o["detail"] = picojson::value(c.detail);
      arr.push_back(picojson::value(o));
    }
    picojson::object doc;
    doc["ok"] = picojson::value(all_ok);
    doc["checks"] = picojson::value(arr);
    print_json(inv, picojson::value(doc));
  } else {
    for (const auto& c : checks) *inv.out << (c.ok ? "ok    " : "FAIL  ") << c.name << ": " << c.detail << "\n";
  }
  return all_ok ? kExitOk : kExitFailed;
}

}  // namespace

void register_core_commands(Cli& cli) {
  cli.add({{"serve"}, "", "run the daemon (HTTP on --listen, default 127.0.0.1:7070)",
           {{"listen", "HOST:PORT", "address to listen on"}, {"issuer", "URL", "public URL of this server"}},
           0, 0, serve});
  cli.add({{"version"}, "", "print the version", {}, 0, 0, cmd_version});
  cli.add({{"check"}, "", "check config, permissions, issuer and database integrity", {}, 0, 0, cmd_check});
  cli.add({{"signing-key", "rotate"}, "", "create a new signing key; earlier ones keep verifying", {}, 0, 0,
           cmd_signing_key_rotate});
  cli.add({{"signing-key", "list"}, "", "list signing keys (never their secrets)", {}, 0, 0, cmd_signing_key_list});
  cli.add({{"backup"}, "FILE", "write a consistent copy of the database to FILE (SQLite online backup)", {}, 1, 1,
           cmd_backup});
}

int run_main(int argc, char** argv) {
  ::umask(077);  // every file plugauth creates is private to its user
  Cli cli;
  register_core_commands(cli);
  register_identity_commands(cli);
  register_client_commands(cli);
  register_info_commands(cli);
  Invocation inv;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string::npos) inv.env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  inv.in = &std::cin;
  inv.out = &std::cout;
  inv.err = &std::cerr;
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    int rc = cli.run(args, inv);
    std::cout.flush();
    return rc;
  } catch (const std::exception& e) {
    return fail(inv, std::string("internal error: ") + e.what());
  }
}

}  // namespace plugauth::cli

#include "cli/app.h"

#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <filesystem>

namespace plugauth::cli {

Result<Config> load_invocation_config(const Invocation& inv, std::map<std::string, std::string> config_flags) {
  ConfigSources sources;
  sources.config_flag = inv.config_flag;
  sources.env = inv.env;
  sources.flags = std::move(config_flags);
  if (!inv.data_flag.empty()) sources.flags["data"] = inv.data_flag;
  return load_config(sources);
}

SigningKeyPolicy signing_policy(const Config& config) {
  SigningKeyPolicy p;
  p.alg = *parse_jwt_alg(config.token_alg);
  p.rotation_period = config.signing_key_rotation;
  p.access_token_ttl = config.access_token_ttl;
  return p;
}

SigningKeyPolicy served_signing_policy(store::Store& store, const SigningKeys& keys, const Config& config) {
  SigningKeyPolicy p = signing_policy(config);
  std::optional<JwtAlg> alg;
  if (auto recorded = store.served_setting("token_alg")) alg = parse_jwt_alg(*recorded);
  if (!alg) {
    for (const auto& k : keys.list())
      if (k.current) alg = parse_jwt_alg(k.alg);
  }
  if (alg) p.alg = *alg;
  if (auto ttl = store.served_setting("access_token_ttl")) {
    try {
      p.access_token_ttl = std::stoll(*ttl);
    } catch (const std::exception&) {
      // keep this command's own; the recorded value is never malformed
    }
  }
  return p;
}

void record_served_settings(store::Store& store, const Config& config, int64_t now) {
  store.set_served_setting("issuer", config.issuer, now);
  store.set_served_setting("token_alg", config.token_alg, now);
  store.set_served_setting("access_token_ttl", std::to_string(config.access_token_ttl), now);
}

std::string database_path(const Config& config) { return config.data + "/plugauth.db"; }

Status become_user(uid_t uid) {
  // The user's own primary group, never the directory's (which may be root's).
  const struct passwd* pw = ::getpwuid(uid);
  const gid_t gid = pw != nullptr ? pw->pw_gid : static_cast<gid_t>(uid);
  if (gid == 0) return make_error("uid " + std::to_string(uid) + " has group root; refusing to act as it");
  if (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0)
    return make_error("cannot become uid " + std::to_string(uid) + " (the data directory's owner): " +
                      std::strerror(errno));
  if (::setuid(0) == 0) return make_error("could not drop root for uid " + std::to_string(uid));
  return ok_status();
}

Result<std::string> root_safe_directory(const std::string& dir) {
  char resolved[PATH_MAX];
  if (::realpath(dir.c_str(), resolved) == nullptr)
    return make_error("cannot resolve data directory " + dir + ": " + std::strerror(errno));
  const std::string canonical = resolved;
  for (size_t end = 0; end != std::string::npos;) {
    end = canonical.find('/', end + 1);
    const std::string prefix = end == std::string::npos ? canonical : canonical.substr(0, std::max<size_t>(end, 1));
    struct stat st {};
    if (::lstat(prefix.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
      return make_error("data directory " + canonical + " changed while it was checked (" + prefix + ")");
    const bool sticky = (st.st_mode & S_ISVTX) != 0;
    const bool others_may_change = (st.st_mode & S_IWOTH) != 0 || ((st.st_mode & S_IWGRP) != 0 && st.st_gid != 0);
    if (st.st_uid != 0 || (others_may_change && !sticky))
      return make_error("run as root, plugauth opens a root-owned data directory only on a path no other user can "
                        "change, and " + prefix + " is " +
                        (st.st_uid != 0 ? "owned by uid " + std::to_string(st.st_uid) : "writable by others") +
                        ": move the installation, or chown it to the user that runs plugauth");
  }
  return canonical;
}

Result<std::unique_ptr<App>> open_app(const Invocation& inv, std::map<std::string, std::string> config_flags,
                                      DataDirectory data_directory) {
  if (!crypto_init()) return make_error("libsodium failed to initialise");
  auto app = std::make_unique<App>();
  if (auto it = inv.env.find("PLUGAUTH_TEST_CLOCK_OFFSET_FILE"); it != inv.env.end() && !it->second.empty())
    app->clock.use_offset_file(it->second);
  auto config = load_invocation_config(inv, std::move(config_flags));
  if (!config) return config.error();
  app->config = std::move(config.value());
  const std::string& data = app->config.data;

  std::error_code ec;
  // Nothing named or found it: the default only `serve` may create (one
  // that exists but was passed over, planted for root, is not used either).
  const bool found = !app->config.data_source.empty() && std::filesystem::exists(data, ec);
  if (!found && data_directory == DataDirectory::MustExist) {
    if (!app->config.data_source.empty())
      return make_error("no data directory " + data + " (named by " + app->config.data_source +
                        "); `plugauth serve` creates it");
    return make_error(std::string("no data directory: neither ./plugauth-data nor /var/lib/plugauth exists") +
                      (::geteuid() == 0 ? " (for root, a ./plugauth-data root owns)" : "") +
                      " and no --data, $PLUGAUTH_DATA or $STATE_DIRECTORY names one. Run this where `plugauth serve` "
                      "runs, or give --data DIR");
  }
  if (!std::filesystem::exists(data, ec)) {
    std::filesystem::create_directories(data, ec);
    if (ec) return make_error("cannot create data directory " + data + ": " + ec.message());
    ::chmod(data.c_str(), 0700);
    app->notices.push_back("created data directory " + data + " (mode 0700)");
  } else if (!std::filesystem::is_directory(data, ec)) {
    return make_error("data path " + data + " exists but is not a directory");
  }

  MasterKeyLocation where;
  if (auto it = inv.env.find("CREDENTIALS_DIRECTORY"); it != inv.env.end()) where.credentials_directory = it->second;
  if (auto it = inv.env.find("PLUGAUTH_MASTER_KEY_FILE"); it != inv.env.end()) where.key_file = it->second;
  where.data_dir = data;
  // Run as root on a data directory another user owns (the service's):
  // become that user before anything in it is created or opened, so no
  // file the daemon needs ends up root's. A master key kept outside (root's
  // /etc/plugauth/master.key, a systemd credential) is read first, as root.
  // Staying root, it works on the directory's canonical path, checked so
  // that no other user can swap a part of it for a symlink into root's files.
  struct stat data_stat {};
  const bool as_root = ::geteuid() == 0;
  const bool become_owner = as_root && ::stat(data.c_str(), &data_stat) == 0 && data_stat.st_uid != 0;
  if (as_root && !become_owner) {
    auto canonical = root_safe_directory(data);
    if (!canonical) return canonical.error();
    app->config.data = where.data_dir = *canonical;
  }
  const bool key_outside =
      !where.key_file.empty() ||
      (!where.credentials_directory.empty() && ::access((where.credentials_directory + "/master-key").c_str(), F_OK) == 0);
  if (become_owner && !key_outside)
    if (auto st = become_user(data_stat.st_uid); !st) return st.error();
  auto master = load_or_create_master_key(where, app->random);
  if (!master) return master.error();
  if (become_owner && key_outside)
    if (auto st = become_user(data_stat.st_uid); !st) return st.error();
  app->became_owner = become_owner;
  app->master_key_path = master->path;
  if (master->created) app->notices.push_back("created master key " + master->path + " (mode 0600)");
  app->crypto = std::make_unique<CryptoKeys>(master->key);

  const std::string db_path = database_path(app->config);
  const bool db_existed = std::filesystem::exists(db_path, ec);
  // As found: once open, SQLite may create, delete or truncate the -wal and -shm.
  if (auto refusal = exposed_files_refusal("database", database_files(db_path))) return make_error(*refusal);
  if (!db_existed) {
    // Created 0600 before SQLite opens it: SQLite gives the -wal and -shm
    // the database's mode, so none of the three is ever readable by others
    // (SPEC §6), not even for a moment.
    const int fd = ::open(db_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return make_error("cannot create database " + db_path + ": " + std::strerror(errno));
    const bool private_mode = ::fchmod(fd, 0600) == 0;
    ::close(fd);
    if (!private_mode) return make_error("cannot make database " + db_path + " private: " + std::strerror(errno));
  }
  auto store = store::Store::open(db_path);
  if (!store) return store.error();
  app->store = std::move(store.value());
  if (!db_existed) {
    app->notices.push_back("created database " + db_path + " (schema v" +
                           std::to_string(app->store->schema_version()) + ")");
  }

  // The issuer `serve` recorded, when this command's settings name none: a
  // daemon started with --issuer is what manifest prints, verify accepts
  // and a two-step sign-in link names. One that differs is said.
  if (data_directory == DataDirectory::MustExist) {
    auto served = app->store->served_setting("issuer");
    if (served && !valid_http_url(*served)) served.reset();  // only what serve itself would take
    if (served && *served != app->config.issuer) {
      if (!app->config.issuer_named) {
        app->config.issuer = *served;
        if (!app->config.resources_named) app->config.resources.front().uri = *served;
      } else {
        app->notices.push_back("the issuer here is " + app->config.issuer + ", but the daemon serves " + *served +
                               " (check --config, $PLUGAUTH_ISSUER or the config file's issuer)");
      }
    }
  }

  // Loaded, never changed here: only `serve` and `signing-key rotate`
  // change signing keys (SPEC §4), so a command run with another config
  // (say without the installation's --config) cannot rotate them.
  app->signing_keys = std::make_unique<SigningKeys>(*app->store, *app->crypto, app->random, app->clock,
                                                    signing_policy(app->config));
  if (auto st = app->signing_keys->reload(); !st) return st.error();
  return app;
}

}  // namespace plugauth::cli

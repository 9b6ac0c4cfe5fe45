// What a command that touches the data directory opens: the configuration,
// the master key, the database and the signing keys. Only `serve` creates a
// data directory (0700); any other command without one fails naming where
// it looked, instead of quietly starting an installation no daemon serves.
// In an existing directory, opening creates a missing master.key (0600) and
// plugauth.db. It never creates or rotates a signing key: `serve` does.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "auth/crypto.h"
#include "auth/signing_keys.h"
#include "cli/cli.h"
#include "common/clock.h"
#include "common/result.h"
#include "config/config.h"
#include "store/store.h"

namespace plugauth::cli {

struct App {
  Config config;
  ProcessClock clock;
  SystemRandom random;
  std::string master_key_path;
  std::unique_ptr<CryptoKeys> crypto;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<SigningKeys> signing_keys;
  std::vector<std::string> notices;  // what opening created, for the operator
  bool became_owner = false;         // run as root, now the data directory's owner
};

// `config_flags`: config keys given as flags (e.g. {"listen", "…"}).
// Refuses a database whose file, -wal or -shm group or others may read or
// write (SPEC §6), naming the chmod that fixes it, before SQLite opens it:
// `serve` does not start on it, and no other command uses it either.
enum class DataDirectory { MustExist, Create };
Result<std::unique_ptr<App>> open_app(const Invocation& inv, std::map<std::string, std::string> config_flags = {},
                                      DataDirectory data_directory = DataDirectory::MustExist);

// <data>/plugauth.db
std::string database_path(const Config& config);

// Drops root for good: no supplementary groups, then the user's primary
// group (never root's), then `uid`.
Status become_user(uid_t uid);

// Run as root on a root-owned data directory: its canonical path, if every
// directory from / down to it is root's and writable by no one else (a
// sticky one such as /tmp excepted); else why not.
Result<std::string> root_safe_directory(const std::string& dir);

// Only the configuration (for commands that must not create anything).
Result<Config> load_invocation_config(const Invocation& inv, std::map<std::string, std::string> config_flags = {});

SigningKeyPolicy signing_policy(const Config& config);

// The policy `signing-key rotate` must follow: the algorithm and
// access-token lifetime `serve` recorded (else the current key's algorithm
// and this command's lifetime), not this command's own config, which may
// not be the daemon's.
SigningKeyPolicy served_signing_policy(store::Store& store, const SigningKeys& keys, const Config& config);
// serve: records what served_signing_policy() reads, and the issuer it
// serves (which open_app gives a command whose settings name none).
void record_served_settings(store::Store& store, const Config& config, int64_t now);

}  // namespace plugauth::cli

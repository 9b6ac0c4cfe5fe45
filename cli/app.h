// What a command that touches the data directory opens: the configuration,
// the master key, the database and the signing keys. Opening creates what is
// missing (data directory 0700, master.key 0600, plugauth.db, a signing key)
// so that `plugauth serve` and every other command work on an empty machine.
#pragma once

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
};

// `config_flags`: config keys given as flags (e.g. {"listen", "…"}).
Result<std::unique_ptr<App>> open_app(const Invocation& inv, std::map<std::string, std::string> config_flags = {});

// Only the configuration (for commands that must not create anything).
Result<Config> load_invocation_config(const Invocation& inv, std::map<std::string, std::string> config_flags = {});

SigningKeyPolicy signing_policy(const Config& config);

}  // namespace plugauth::cli

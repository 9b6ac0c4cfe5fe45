#pragma once

#include "cli/cli.h"

namespace plugauth::cli {

// user, role, key, verification-token.
void register_identity_commands(Cli& cli);
// client, token.
void register_client_commands(Cli& cli);
// manifest, audit, verify.
void register_info_commands(Cli& cli);

}  // namespace plugauth::cli

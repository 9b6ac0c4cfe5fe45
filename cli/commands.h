#pragma once

#include "cli/cli.h"

namespace plugauth::cli {

// serve, version, check, signing-key, backup.
void register_core_commands(Cli& cli);

// The whole command line: builds the Cli with every command and runs it.
int run_main(int argc, char** argv);

}  // namespace plugauth::cli

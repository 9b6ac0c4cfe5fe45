// plugauth: the authentication daemon for AI plugins, GPT Actions and MCP
// servers. main() only hands the command line to the CLI, which wires the
// config, store, crypto and HTTP server together per command.
#include "cli/commands.h"

int main(int argc, char** argv) { return plugauth::cli::run_main(argc, argv); }

// The command-line parser every subcommand plugs into (SPEC §4).
//
//   plugauth WORD… [ARG…] [--option [VALUE]]…
//
// Command words come first; options and arguments may follow in any order.
// `--data DIR`, `--config FILE`, `--json` and `--help` are accepted by every
// command. Exit status: 0 ok, 1 failed (including "not found"), 2 usage error.
// With --json a command prints exactly one JSON document on stdout, errors
// included ({"error": "..."}); human-readable text otherwise.
#pragma once

#include <functional>
#include <iosfwd>
#include <map>
#include <string>
#include <vector>

#include <picojson.h>

namespace plugauth::cli {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

struct Invocation {
  std::vector<std::string> words;  // the command words matched
  std::vector<std::string> args;   // positional arguments
  std::map<std::string, std::vector<std::string>> options;  // name (no --) → values
  bool json = false;
  std::string data_flag;
  std::string config_flag;
  std::map<std::string, std::string> env;
  std::istream* in = nullptr;
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;

  bool has(const std::string& name) const { return options.count(name) != 0; }
  std::string get(const std::string& name, const std::string& fallback = "") const;
  const std::vector<std::string>& all(const std::string& name) const;
};

struct OptionSpec {
  std::string name;        // without the leading --
  std::string value_name;  // empty: a switch that takes no value
  std::string help;
  bool repeatable = false;
};

struct CommandSpec {
  std::vector<std::string> words;  // e.g. {"signing-key", "rotate"}
  std::string args_usage;          // e.g. "FILE"
  std::string summary;
  std::vector<OptionSpec> options;
  size_t min_args = 0;
  size_t max_args = 0;
  std::function<int(Invocation&)> run;
};

class Cli {
 public:
  void add(CommandSpec spec);
  // argv excludes the program name.
  int run(const std::vector<std::string>& argv, Invocation base) const;
  const std::vector<CommandSpec>& commands() const { return commands_; }

 private:
  void print_overview(std::ostream& os) const;
  void print_help(std::ostream& os, const CommandSpec& spec) const;
  void print_group(std::ostream& os, const std::vector<std::string>& prefix) const;
  std::vector<CommandSpec> commands_;
};

// Output helpers that honour --json.
void print_json(Invocation& inv, const picojson::value& doc);
// Prints the error (as {"error": …} with --json) and returns kExitFailed.
int fail(Invocation& inv, const std::string& message);
// Prints a usage error and returns kExitUsage.
int usage_error(Invocation& inv, const std::string& message);

}  // namespace plugauth::cli

// The command-line parser (SPEC §4) with a table of stand-in commands whose
// run() records the Invocation it was given.
#include <catch2/catch.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "common/json.h"

using plugauth::cli::Cli;
using plugauth::cli::CommandSpec;
using plugauth::cli::Invocation;
using plugauth::cli::kExitFailed;
using plugauth::cli::kExitOk;
using plugauth::cli::kExitUsage;

namespace {

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

struct Harness {
  Cli cli;
  std::ostringstream out;
  std::ostringstream err;
  std::optional<Invocation> seen;  // what the last command ran with
  int command_status = kExitOk;

  Harness() {
    auto record = [this](Invocation& inv) {
      seen = inv;
      return command_status;
    };
    cli.add(CommandSpec{{"version"}, "", "print the version", {}, 0, 0, record});
    cli.add(CommandSpec{{"backup"}, "FILE", "copy the database to FILE", {}, 1, 1, record});
    cli.add(CommandSpec{{"signing-key", "rotate"}, "", "make a new signing key current", {}, 0, 0, record});
    cli.add(CommandSpec{{"signing-key", "list"}, "", "list signing keys", {}, 0, 0, record});
    cli.add(CommandSpec{{"client", "add"},
                        "",
                        "register a client",
                        {{"name", "NAME", "display name"},
                         {"redirect-uri", "URI", "an allowed redirect URI", true},
                         {"public", "", "a public client (no secret)"}},
                        0,
                        0,
                        record});
    cli.add(CommandSpec{{"user", "add"}, "NAME", "add a user", {{"role", "R", "a role", true}}, 1, 1, record});
    cli.add(CommandSpec{{"verify"}, "TOKEN [EXTRA]", "check a token", {}, 1, 2, record});
  }

  int run(const std::vector<std::string>& argv) {
    out.str("");
    err.str("");
    seen.reset();
    Invocation base;
    base.out = &out;
    base.err = &err;
    return cli.run(argv, base);
  }
};

}  // namespace

TEST_CASE("no arguments is a usage error that prints the command overview on stderr") {
  Harness h;
  CHECK(h.run({}) == kExitUsage);
  CHECK(h.out.str().empty());
  CHECK(contains(h.err.str(), "usage: plugauth COMMAND"));
  CHECK(contains(h.err.str(), "signing-key rotate"));
  CHECK_FALSE(h.seen);
}

TEST_CASE("top-level --help prints every command on stdout and exits 0") {
  Harness h;
  for (const char* flag : {"--help", "-h", "help"}) {
    INFO(flag);
    CHECK(h.run({flag}) == kExitOk);
    for (const char* command : {"version", "backup FILE", "signing-key rotate", "signing-key list", "client add",
                                "user add NAME", "verify TOKEN"})
      CHECK(contains(h.out.str(), command));
    CHECK(h.err.str().empty());
  }
}

TEST_CASE("an unknown command is a usage error naming it") {
  Harness h;
  CHECK(h.run({"frobnicate", "--json"}) == kExitUsage);
  CHECK(contains(h.err.str(), "unknown command \"frobnicate\""));
  CHECK(h.out.str().empty());
  CHECK_FALSE(h.seen);

  CHECK(h.run({"--json"}) == kExitUsage);  // options before any command word
  CHECK_FALSE(h.seen);
}

TEST_CASE("an unknown subcommand of a group is a usage error that lists the group") {
  Harness h;
  CHECK(h.run({"signing-key", "frob"}) == kExitUsage);
  CHECK(contains(h.err.str(), "unknown subcommand \"frob\""));
  CHECK(contains(h.err.str(), "signing-key rotate"));
  CHECK(contains(h.err.str(), "signing-key list"));
  CHECK_FALSE(contains(h.err.str(), "client add"));
  CHECK_FALSE(h.seen);

  // The group word alone is incomplete, also a usage error.
  CHECK(h.run({"signing-key"}) == kExitUsage);
  CHECK(contains(h.err.str(), "signing-key rotate"));
  CHECK_FALSE(h.seen);
}

TEST_CASE("group --help lists its subcommands on stdout and exits 0") {
  Harness h;
  CHECK(h.run({"signing-key", "--help"}) == kExitOk);
  CHECK(contains(h.out.str(), "usage: plugauth signing-key SUBCOMMAND"));
  CHECK(contains(h.out.str(), "signing-key rotate"));
  CHECK(contains(h.out.str(), "make a new signing key current"));
  CHECK(contains(h.out.str(), "signing-key list"));
  CHECK_FALSE(contains(h.out.str(), "backup"));
  CHECK_FALSE(h.seen);
}

TEST_CASE("command --help prints usage with every option, its own and the global ones") {
  Harness h;
  CHECK(h.run({"client", "add", "--help"}) == kExitOk);
  const std::string help = h.out.str();
  INFO(help);
  CHECK(contains(help, "usage: plugauth client add"));
  CHECK(contains(help, "register a client"));
  for (const char* option : {"--name NAME", "--redirect-uri URI", "--public", "--data DIR", "--config FILE",
                             "--json", "--help"})
    CHECK(contains(help, option));
  CHECK(contains(help, "display name"));
  CHECK_FALSE(h.seen);  // help never runs the command

  // --help wins wherever it is, even next to otherwise invalid input.
  CHECK(h.run({"backup", "--json", "--help"}) == kExitOk);
  CHECK(contains(h.out.str(), "usage: plugauth backup FILE"));
  CHECK_FALSE(h.seen);
}

TEST_CASE("an unknown option is a usage error naming it and the command") {
  Harness h;
  CHECK(h.run({"version", "--nope"}) == kExitUsage);
  CHECK(contains(h.err.str(), "unknown option --nope"));
  CHECK(contains(h.err.str(), "plugauth version"));
  CHECK(contains(h.err.str(), "see `plugauth version --help`"));
  CHECK_FALSE(h.seen);

  CHECK(h.run({"version", "-x"}) == kExitUsage);  // single-dash options do not exist
  CHECK(contains(h.err.str(), "two dashes"));

  CHECK(h.run({"backup", "f", "--name", "x"}) == kExitUsage);  // another command's option
  CHECK_FALSE(h.seen);
}

TEST_CASE("an option without its value is a usage error") {
  Harness h;
  CHECK(h.run({"client", "add", "--name"}) == kExitUsage);
  CHECK(contains(h.err.str(), "--name needs a value (NAME)"));
  CHECK(h.run({"backup", "f", "--data"}) == kExitUsage);
  CHECK(h.run({"backup", "f", "--data="}) == kExitUsage);
  CHECK_FALSE(h.seen);
}

TEST_CASE("a switch given a value is a usage error") {
  Harness h;
  CHECK(h.run({"client", "add", "--public=yes"}) == kExitUsage);
  CHECK(contains(h.err.str(), "--public takes no value"));
  CHECK(h.run({"version", "--json=1"}) == kExitUsage);
  CHECK_FALSE(h.seen);
}

TEST_CASE("too many or too few positional arguments is a usage error") {
  Harness h;
  CHECK(h.run({"backup"}) == kExitUsage);
  CHECK(contains(h.err.str(), "takes FILE; got 0 argument(s)"));
  CHECK(h.run({"backup", "a", "b"}) == kExitUsage);
  CHECK(contains(h.err.str(), "got 2 argument(s)"));
  CHECK(h.run({"version", "extra"}) == kExitUsage);
  CHECK(contains(h.err.str(), "no arguments"));
  CHECK(h.run({"signing-key", "rotate", "now"}) == kExitUsage);
  CHECK(h.run({"verify", "a", "b", "c"}) == kExitUsage);
  CHECK_FALSE(h.seen);

  CHECK(h.run({"verify", "a"}) == kExitOk);
  CHECK(h.run({"verify", "a", "b"}) == kExitOk);
  CHECK(h.seen->args == std::vector<std::string>{"a", "b"});
}

TEST_CASE("a non-repeatable option given twice is a usage error, and a repeatable one collects every value") {
  Harness h;
  CHECK(h.run({"client", "add", "--name", "a", "--name", "b"}) == kExitUsage);
  CHECK(contains(h.err.str(), "--name given more than once"));
  CHECK(h.run({"version", "--json", "--json"}) == kExitUsage);
  CHECK_FALSE(h.seen);

  CHECK(h.run({"client", "add", "--redirect-uri", "https://a/cb", "--redirect-uri=https://b/cb"}) == kExitOk);
  REQUIRE(h.seen);
  CHECK(h.seen->all("redirect-uri") == std::vector<std::string>{"https://a/cb", "https://b/cb"});
  CHECK(h.seen->all("name").empty());
}

TEST_CASE("an option given as --opt=value or as --opt value gives the same value, which may contain = or start with -") {
  Harness h;
  CHECK(h.run({"client", "add", "--name=My App"}) == kExitOk);
  CHECK(h.seen->get("name") == "My App");
  CHECK(h.run({"client", "add", "--name", "My App"}) == kExitOk);
  CHECK(h.seen->get("name") == "My App");
  CHECK(h.run({"client", "add", "--name=a=b"}) == kExitOk);
  CHECK(h.seen->get("name") == "a=b");
  CHECK(h.run({"client", "add", "--name", "--public"}) == kExitOk);  // a value is taken verbatim
  CHECK(h.seen->get("name") == "--public");
  CHECK_FALSE(h.seen->has("public"));
  CHECK(h.run({"client", "add", "--name="}) == kExitOk);
  CHECK(h.seen->has("name"));
  CHECK(h.seen->get("name", "fallback") == "");
}

TEST_CASE("options and arguments may come in any order after the command words") {
  Harness h;
  for (const auto& argv : std::vector<std::vector<std::string>>{
           {"user", "add", "alice", "--role", "admin", "--json", "--data", "/d"},
           {"user", "add", "--json", "alice", "--data=/d", "--role=admin"},
           {"user", "add", "--role", "admin", "--data", "/d", "--json", "alice"}}) {
    CHECK(h.run(argv) == kExitOk);
    REQUIRE(h.seen);
    CHECK(h.seen->words == std::vector<std::string>{"user", "add"});
    CHECK(h.seen->args == std::vector<std::string>{"alice"});
    CHECK(h.seen->all("role") == std::vector<std::string>{"admin"});
    CHECK(h.seen->json);
    CHECK(h.seen->data_flag == "/d");
  }
}

TEST_CASE("after -- everything is a positional argument") {
  Harness h;
  CHECK(h.run({"backup", "--json", "--", "--not-an-option"}) == kExitOk);
  REQUIRE(h.seen);
  CHECK(h.seen->args == std::vector<std::string>{"--not-an-option"});
  CHECK(h.seen->json);
}

TEST_CASE("the global options set json, data and config on the invocation") {
  Harness h;
  CHECK(h.run({"version"}) == kExitOk);
  REQUIRE(h.seen);
  CHECK_FALSE(h.seen->json);
  CHECK(h.seen->data_flag.empty());
  CHECK(h.seen->config_flag.empty());
  CHECK(h.seen->words == std::vector<std::string>{"version"});

  CHECK(h.run({"signing-key", "list", "--json", "--data", "/var/lib/x", "--config=/etc/p.json"}) == kExitOk);
  REQUIRE(h.seen);
  CHECK(h.seen->json);
  CHECK(h.seen->data_flag == "/var/lib/x");
  CHECK(h.seen->config_flag == "/etc/p.json");
  CHECK(h.seen->words == std::vector<std::string>{"signing-key", "list"});
}

TEST_CASE("the command's exit status is returned as is") {
  Harness h;
  h.command_status = kExitFailed;
  CHECK(h.run({"version"}) == kExitFailed);
}

TEST_CASE("fail() with --json prints one {\"error\": …} document on stdout and returns 1") {
  std::ostringstream out, err;
  Invocation inv;
  inv.out = &out;
  inv.err = &err;
  inv.json = true;
  CHECK(plugauth::cli::fail(inv, "client \"x\" not found") == kExitFailed);
  auto doc = plugauth::parse_json_strict(out.str());
  INFO(out.str());
  REQUIRE(doc.ok());
  REQUIRE(doc->is<picojson::object>());
  const auto& o = doc->get<picojson::object>();
  CHECK(o.size() == 1);
  REQUIRE(o.count("error"));
  CHECK(o.at("error").get<std::string>() == "client \"x\" not found");
}

TEST_CASE("fail() without --json prints the message on stderr only and returns 1") {
  std::ostringstream out, err;
  Invocation inv;
  inv.out = &out;
  inv.err = &err;
  CHECK(plugauth::cli::fail(inv, "not found") == kExitFailed);
  CHECK(out.str().empty());
  CHECK(err.str() == "plugauth: not found\n");
}

TEST_CASE("usage_error() prints on stderr and returns 2") {
  std::ostringstream out, err;
  Invocation inv;
  inv.out = &out;
  inv.err = &err;
  inv.words = {"client", "add"};
  CHECK(plugauth::cli::usage_error(inv, "bad value") == kExitUsage);
  CHECK(out.str().empty());
  CHECK(contains(err.str(), "plugauth: bad value"));
  CHECK(contains(err.str(), "see `plugauth client add --help`"));
}

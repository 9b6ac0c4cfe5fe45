// The command-line contract of SPEC §4, checked on the real binary: exit
// status 0 ok / 1 failed / 2 usage error, `--help` on every command, and
// `--json` printing exactly one JSON document on stdout.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

#include <filesystem>
#include <map>
#include <fstream>

#include <SQLiteCpp/SQLiteCpp.h>
#include <catch2/catch.hpp>

#include "tests/integration/daemon.h"

using namespace plugauth::testing;

namespace {

// A data directory as `serve` leaves it before its first run: only `serve`
// creates one (SPEC §4), so every other command needs it to exist.
struct Workspace {
  TempDir dir;
  std::string data = dir.path() + "/data";
  Workspace() {
    std::filesystem::create_directory(data);
    std::filesystem::permissions(data, std::filesystem::perms::owner_all);
  }

  CommandResult run(std::vector<std::string> args, const std::map<std::string, std::string>& env = {},
                    const std::string& stdin_data = "") const {
    args.push_back("--data");
    args.push_back(data);
    return run_plugauth(args, env, stdin_data);
  }
};

// plugauth in the working directory `cwd` with an environment of PATH only
// (no --data, $PLUGAUTH_DATA or $STATE_DIRECTORY): its exit status and what
// it wrote to stdout and stderr.
CommandResult run_in(const std::string& cwd, const std::string& args) {
  const std::string cmd =
      "cd '" + cwd + "' && exec env -i PATH=/usr/bin:/bin '" + std::string(PLUGAUTH_BINARY) + "' " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  CommandResult r;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) r.out.append(buf, n);
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string describe(const CommandResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

picojson::value require_one_json(const CommandResult& r) {
  std::string error;
  auto doc = parse_one_json(r.out, &error);
  INFO(describe(r) << "\nJSON error: " << error);
  REQUIRE(doc.has_value());
  return *doc;
}

mode_t permissions(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

void write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  REQUIRE(out.good());
}

}  // namespace

TEST_CASE("plugauth with no arguments is a usage error (exit 2) listing the commands on stderr") {
  auto r = run_plugauth({});
  INFO(describe(r));
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Catch::Contains("serve"));
}

TEST_CASE("an unknown command is a usage error (exit 2) naming it") {
  auto r = run_plugauth({"frobnicate"});
  INFO(describe(r));
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("frobnicate"));
}

TEST_CASE("an unknown subcommand of a command group is a usage error (exit 2)") {
  auto r = run_plugauth({"signing-key", "destroy"});
  INFO(describe(r));
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("destroy"));
}

TEST_CASE("an unknown option is a usage error (exit 2) naming it") {
  Workspace ws;
  auto r = ws.run({"check", "--no-such-option"});
  INFO(describe(r));
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("--no-such-option"));
  // A usage error creates nothing.
  CHECK(std::filesystem::is_empty(ws.data));
}

TEST_CASE("every command answers --help with exit 0 and its usage on stdout") {
  const std::vector<std::string> command = GENERATE(
      std::vector<std::string>{"serve"}, std::vector<std::string>{"version"}, std::vector<std::string>{"check"},
      std::vector<std::string>{"signing-key", "rotate"}, std::vector<std::string>{"signing-key", "list"},
      std::vector<std::string>{"backup"});
  std::string words;
  for (const auto& w : command) words += (words.empty() ? "" : " ") + w;

  Workspace ws;
  auto args = command;
  args.push_back("--help");
  auto r = ws.run(args);
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::StartsWith("usage: plugauth " + words));
  CHECK_THAT(r.out, Catch::Contains("--data"));
  // Help never opens the data directory.
  CHECK(std::filesystem::is_empty(ws.data));
}

TEST_CASE("plugauth --help lists the commands on stdout and exits 0") {
  auto r = run_plugauth({"--help"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  for (const char* c : {"serve", "version", "check", "signing-key rotate", "signing-key list", "backup"})
    CHECK_THAT(r.out, Catch::Contains(c));
}

TEST_CASE("plugauth --version prints what `plugauth version` prints, exit 0") {
  auto flag = run_plugauth({"--version"});
  auto word = run_plugauth({"version"});
  INFO(describe(flag));
  CHECK(flag.exit_code == 0);
  CHECK(flag.out == word.out);
  CHECK_THAT(flag.out, Catch::Contains("plugauth"));
}

TEST_CASE("serve --listen without HOST:PORT is a usage error (exit 2) that opens nothing") {
  Workspace ws;
  for (const char* bad : {"7070", "localhost", ":7070", "127.0.0.1:", "127.0.0.1:99999"}) {
    auto r = ws.run({"serve", "--listen", bad});
    INFO(describe(r));
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("HOST:PORT"));
  }
  CHECK(std::filesystem::is_empty(ws.data));
}

TEST_CASE("key list marks a key whose expiry has passed as EXPIRED (text) and expired: true (JSON)") {
  Workspace ws;
  REQUIRE(ws.run({"key", "create", "--service", "short", "--expires", "1h"}).exit_code == 0);
  REQUIRE(ws.run({"key", "create", "--service", "long", "--expires", "90d"}).exit_code == 0);
  const std::string offset = ws.dir.path() + "/clock-offset";
  write_file(offset, "7200\n");  // two hours on: the first has expired
  const std::map<std::string, std::string> later = {{"PLUGAUTH_TEST_CLOCK_OFFSET_FILE", offset}};
  auto text = ws.run({"key", "list"}, later);
  INFO(describe(text));
  REQUIRE(text.exit_code == 0);
  const auto short_line = text.out.substr(text.out.find("service=short"));
  const auto long_line = text.out.substr(text.out.find("service=long"));
  CHECK(short_line.substr(0, short_line.find('\n')).find("EXPIRED") != std::string::npos);
  CHECK(long_line.substr(0, long_line.find('\n')).find("EXPIRED") == std::string::npos);
  auto doc = require_one_json(ws.run({"key", "list", "--json"}, later));
  int expired = 0;
  for (const auto& k : doc.get("keys").get<picojson::array>()) {
    const bool is_short = k.get("service").get<std::string>() == "short";
    CHECK(k.get("expired").get<bool>() == is_short);
    expired += k.get("expired").get<bool>() ? 1 : 0;
  }
  CHECK(expired == 1);
  // Now, neither has.
  auto now = require_one_json(ws.run({"key", "list", "--json"}));
  for (const auto& k : now.get("keys").get<picojson::array>()) CHECK_FALSE(k.get("expired").get<bool>());
}

TEST_CASE("only serve creates a data directory, and another command without one fails naming where it looked") {
  if (std::filesystem::exists("/var/lib/plugauth")) {
    WARN("/var/lib/plugauth exists on this machine: it would be the installation found");
    return;
  }
  TempDir elsewhere;
  auto r = run_in(elsewhere.path(), "user list");
  INFO(describe(r));
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Catch::Contains("no data directory") && Catch::Contains("./plugauth-data") &&
                        Catch::Contains("/var/lib/plugauth") && Catch::Contains("--data"));
  CHECK(std::filesystem::is_empty(elsewhere.path()));  // no fresh installation, no master key
  for (const char* cmd : {"key create --service s", "manifest --type user_http", "check", "signing-key rotate",
                          "client list"}) {
    auto other = run_in(elsewhere.path(), cmd);
    INFO(cmd << "\n" << describe(other));
    CHECK(other.exit_code == 1);
  }
  CHECK(std::filesystem::is_empty(elsewhere.path()));
  // Named but missing: the error says what named it.
  auto named = run_in(elsewhere.path(), "user list --data ./nope");
  CHECK(named.exit_code == 1);
  CHECK_THAT(named.out, Catch::Contains("./nope") && Catch::Contains("--data"));
  // ./plugauth-data, once it exists, is the installation a command finds.
  std::filesystem::create_directory(elsewhere.path() + "/plugauth-data");
  std::filesystem::permissions(elsewhere.path() + "/plugauth-data", std::filesystem::perms::owner_all);
  auto added = run_in(elsewhere.path(), "role add ops --scope admin");
  INFO(describe(added));
  CHECK(added.exit_code == 0);
  CHECK(std::filesystem::exists(elsewhere.path() + "/plugauth-data/plugauth.db"));
}

// Every entry of `dir` and the uid that owns it.
std::map<std::string, uid_t> owners(const std::string& dir) {
  std::map<std::string, uid_t> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    struct stat st {};
    REQUIRE(::lstat(e.path().c_str(), &st) == 0);
    out[e.path().filename().string()] = st.st_uid;
  }
  return out;
}

TEST_CASE("run as root on a data directory another user owns, a command acts as that user and nothing there is root's") {
  if (::geteuid() != 0) {
    WARN("not root: the rule is for commands run as root");
    return;
  }
  constexpr uid_t kService = 65534;  // nobody: any uid that is not root's
  // A process that changed its uid is not dumpable, and LeakSanitizer's
  // exit check (ASan build) cannot attach to it; no leak check here.
  const std::map<std::string, std::string> no_leak_check = {{"ASAN_OPTIONS", "detect_leaks=0"}};
  TempDir dir;
  std::filesystem::permissions(dir.path(), std::filesystem::perms(0711));
  const std::string data = dir.path() + "/data";
  REQUIRE(::mkdir(data.c_str(), 0700) == 0);
  REQUIRE(::chown(data.c_str(), kService, kService) == 0);
  auto added =
      run_plugauth({"user", "add", "alice", "--password-stdin", "--data", data}, no_leak_check, "a long password\n");
  INFO(describe(added));
  REQUIRE(added.exit_code == 0);
  REQUIRE(run_plugauth({"key", "create", "--service", "s", "--data", data}, no_leak_check).exit_code == 0);
  auto files = owners(data);
  CHECK(files.count("master.key") == 1);
  CHECK(files.count("plugauth.db") == 1);
  for (const auto& [name, uid] : files) {
    INFO(name);
    CHECK(uid == kService);
  }

  // The master key kept outside, root's alone (as `make install` keeps it
  // in /etc/plugauth): read as root, then the database as the owner.
  const std::string keys = dir.path() + "/etc";
  REQUIRE(::mkdir(keys.c_str(), 0700) == 0);
  const std::string data2 = dir.path() + "/data2";
  REQUIRE(::mkdir(data2.c_str(), 0700) == 0);
  run_plugauth({"check", "--data", keys});  // makes a master key there, root's
  REQUIRE(std::filesystem::exists(keys + "/master.key"));
  REQUIRE(::chown(data2.c_str(), kService, kService) == 0);
  const std::map<std::string, std::string> env = {{"PLUGAUTH_MASTER_KEY_FILE", keys + "/master.key"},
                                                  {"ASAN_OPTIONS", "detect_leaks=0"}};
  auto outside = run_plugauth({"user", "add", "bob", "--password-stdin", "--data", data2}, env, "a long password\n");
  INFO(describe(outside));
  REQUIRE(outside.exit_code == 0);
  auto listed = run_plugauth({"user", "list", "--json", "--data", data2}, env);
  CHECK_THAT(listed.out, Catch::Contains("bob"));
  CHECK(owners(keys).at("master.key") == 0);
  for (const auto& [name, uid] : owners(data2)) {
    INFO(name);
    CHECK(uid == kService);
  }
  // A backup into a directory only root may write says why it cannot.
  auto backup = run_plugauth({"backup", keys + "/copy.db", "--data", data}, no_leak_check);
  CHECK(backup.exit_code == 1);
  CHECK_THAT(backup.err, Catch::Contains("acts as the data directory's owner"));

  // A root-owned data directory below a directory another user owns: that
  // user could swap it for a symlink into root's files, so root refuses.
  const std::string theirs = dir.path() + "/theirs";
  REQUIRE(::mkdir(theirs.c_str(), 0755) == 0);
  REQUIRE(::chown(theirs.c_str(), kService, kService) == 0);
  REQUIRE(::mkdir((theirs + "/data").c_str(), 0700) == 0);
  auto refused = run_plugauth({"user", "list", "--data", theirs + "/data"});
  INFO(describe(refused));
  CHECK(refused.exit_code == 1);
  CHECK_THAT(refused.err, Catch::Contains("owned by uid 65534"));
  CHECK(std::filesystem::is_empty(theirs + "/data"));
  // A ./plugauth-data another user planted where root runs a command is not
  // the installation root finds.
  REQUIRE(::mkdir((theirs + "/plugauth-data").c_str(), 0700) == 0);
  REQUIRE(::chown((theirs + "/plugauth-data").c_str(), kService, kService) == 0);
  // Nor may its config file send root to another of theirs.
  REQUIRE(::mkdir((theirs + "/elsewhere").c_str(), 0700) == 0);
  REQUIRE(::chown((theirs + "/elsewhere").c_str(), kService, kService) == 0);
  std::ofstream(theirs + "/plugauth-data/plugauth.json") << R"({"data": ")" << theirs << R"(/elsewhere"})";
  if (!std::filesystem::exists("/var/lib/plugauth")) {
    auto planted = run_in(theirs, "user list");
    INFO(describe(planted));
    CHECK(planted.exit_code == 1);
    CHECK_THAT(planted.out, Catch::Contains("no data directory"));
    CHECK(std::filesystem::is_empty(theirs + "/elsewhere"));
  }
}

TEST_CASE("role add says which scopes it drops when it replaces a role's scopes") {
  Workspace ws;
  REQUIRE(ws.run({"role", "add", "user", "--scope", "notes:read notes:write"}).exit_code == 0);
  auto replaced = ws.run({"role", "add", "user", "--scope", "mcp:tools notes:read"});
  INFO(describe(replaced));
  CHECK(replaced.exit_code == 0);
  CHECK_THAT(replaced.err, Catch::Contains("role user no longer grants \"notes:write\""));
  auto same = ws.run({"role", "add", "user", "--scope", "mcp:tools notes:read"});
  CHECK_THAT(same.err, !Catch::Contains("no longer grants"));
}

TEST_CASE("key create --expires 90 days is a usage error (exit 2) that shows the forms a duration takes") {
  Workspace ws;
  for (std::vector<std::string> argv : {std::vector<std::string>{"key", "create", "--service", "s", "--expires", "90", "days"},
                                        {"key", "create", "--service", "s", "--expires=90", "days"},
                                        {"registration-token", "create", "--expires", "7", "days"}}) {
    auto r = ws.run(argv);
    INFO(describe(r));
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("--expires takes one word") && Catch::Contains("90d, 12h, 30m, 3600"));
  }
  auto one_word = ws.run({"key", "create", "--service", "s", "--expires", "90 days"});
  CHECK(one_word.exit_code == 2);
  CHECK_THAT(one_word.err, Catch::Contains("a number with s, m, h or d"));
  auto listed = require_one_json(ws.run({"key", "list", "--json"}));
  CHECK(listed.get("keys").get<picojson::array>().empty());  // nothing was made
}

TEST_CASE("client update removes a redirect URI or ChatGPT's callbacks, renames, and refuses what would break") {
  Workspace ws;
  auto added = require_one_json(ws.run({"client", "add", "--name", "GPT", "--chatgpt-callback", "g-wrong",
                                        "--redirect-uri", "https://app.example/cb", "--json"}));
  const std::string id = added.get("client_id").get<std::string>();
  REQUIRE(added.get("redirect_uris").get<picojson::array>().size() == 3);
  // The wrong GPT's callbacks go and the right one's come, in one command.
  auto moved = require_one_json(ws.run({"client", "update", id, "--remove-chatgpt-callback", "g-wrong",
                                        "--add-chatgpt-callback", "g-right", "--name", "My GPT", "--json"}));
  CHECK(moved.get("name").get<std::string>() == "My GPT");
  std::vector<std::string> uris;
  for (const auto& u : moved.get("redirect_uris").get<picojson::array>()) uris.push_back(u.get<std::string>());
  CHECK(uris == std::vector<std::string>{"https://app.example/cb", "https://chat.openai.com/aip/g-right/oauth/callback",
                                         "https://chatgpt.com/aip/g-right/oauth/callback"});
  auto shown = require_one_json(ws.run({"client", "show", id, "--json"}));
  CHECK(shown.get("redirect_uris").serialize() == moved.get("redirect_uris").serialize());
  CHECK(shown.get("name").get<std::string>() == "My GPT");
  // A URI it does not have is an error that changes nothing (a typo would
  // leave the wrong callback in place).
  auto typo = ws.run({"client", "update", id, "--remove-redirect-uri", "https://app.example/cb/"});
  INFO(describe(typo));
  CHECK(typo.exit_code == 1);
  CHECK_THAT(typo.err, Catch::Contains("has no redirect URI") && Catch::Contains("nothing changed"));
  // Removing every URI of a code-flow client would leave it unusable.
  auto last = ws.run({"client", "update", id, "--remove-redirect-uri", "https://app.example/cb",
                      "--remove-chatgpt-callback", "g-right"});
  CHECK(last.exit_code == 1);
  CHECK_THAT(last.err, Catch::Contains("no redirect URI left"));
  // Usage errors: nothing to do, a URI both added and removed, a bad name.
  CHECK(ws.run({"client", "update", id}).exit_code == 2);
  CHECK(ws.run({"client", "update", id, "--add-redirect-uri", "https://a.example/x", "--remove-redirect-uri",
                "https://a.example/x"})
            .exit_code == 2);
  CHECK(ws.run({"client", "update", id, "--name", std::string("evil\x1b[2J")}).exit_code == 2);
  CHECK(ws.run({"client", "update", id, "--remove-connector", "gemini"}).exit_code == 2);
  auto after = require_one_json(ws.run({"client", "show", id, "--json"}));
  CHECK(after.get("redirect_uris").serialize() == moved.get("redirect_uris").serialize());
  // The audit row names the new list.
  auto audit = ws.run({"audit", "--action", "client_updated"});
  CHECK_THAT(audit.out, Catch::Contains("g-right"));
}

TEST_CASE("user add and user passwd refuse a password shorter than password_min_length characters") {
  Workspace ws;
  auto add = [&](const std::string& name, const std::string& password) {
    return ws.run({"user", "add", name, "--password-stdin"}, {}, password + "\n");
  };
  auto short_one = add("alice", "seven77");
  INFO(describe(short_one));
  CHECK(short_one.exit_code == 1);
  CHECK_THAT(short_one.err, Catch::Contains("shorter than 8 characters (password_min_length)"));
  // Characters, not bytes: seven two-byte letters are still seven.
  CHECK(add("alice", "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9").exit_code == 1);
  CHECK(add("alice", "eight888").exit_code == 0);
  write_file(ws.data + "/plugauth.json", R"({"password_min_length": 12})");
  auto passwd = ws.run({"user", "passwd", "alice", "--password-stdin"}, {}, "eleven11111\n");
  INFO(describe(passwd));
  CHECK(passwd.exit_code == 1);
  CHECK_THAT(passwd.err, Catch::Contains("shorter than 12 characters"));
  CHECK(ws.run({"user", "passwd", "alice", "--password-stdin"}, {}, "twelve121212\n").exit_code == 0);
  write_file(ws.data + "/plugauth.json", R"({"password_min_length": 4})");
  auto too_low = ws.run({"user", "list"});
  CHECK(too_low.exit_code != 0);
  CHECK_THAT(too_low.err, Catch::Contains("password_min_length"));
}

TEST_CASE("version --json prints exactly one JSON document with the version") {
  auto r = run_plugauth({"version", "--json"});
  REQUIRE(r.exit_code == 0);
  auto doc = require_one_json(r);
  REQUIRE(doc.is<picojson::object>());
  REQUIRE(doc.get("version").is<std::string>());
  CHECK_FALSE(doc.get("version").get<std::string>().empty());
}

TEST_CASE("signing-key list --json on a fresh directory lists no key: only serve makes one (SPEC §4)") {
  Workspace ws;
  auto r = ws.run({"signing-key", "list", "--json"});
  REQUIRE(r.exit_code == 0);
  auto doc = require_one_json(r);
  REQUIRE(doc.get("keys").is<picojson::array>());
  CHECK(doc.get("keys").get<picojson::array>().empty());
  // And again: listing twice creates nothing either.
  auto again = require_one_json(ws.run({"signing-key", "list", "--json"}));
  CHECK(again.get("keys").get<picojson::array>().empty());
}

TEST_CASE("signing-key rotate on a fresh directory makes a key that signs at once, listed without key material") {
  Workspace ws;
  auto r = ws.run({"signing-key", "rotate", "--json"});
  REQUIRE(r.exit_code == 0);
  auto listed = ws.run({"signing-key", "list", "--json"});
  auto doc = require_one_json(listed);
  const auto& keys = doc.get("keys").get<picojson::array>();
  REQUIRE(keys.size() == 1);
  CHECK_FALSE(keys[0].get("kid").to_str().empty());
  CHECK(keys[0].get("current").get<bool>());
  CHECK_FALSE(keys[0].get("pending").get<bool>());
  // Listing never shows key material.
  CHECK(listed.out.find("\"d\"") == std::string::npos);
}

TEST_CASE("check on a fresh data directory passes (exit 0)") {
  Workspace ws;
  auto r = ws.run({"check"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("FAIL") == std::string::npos);
}

TEST_CASE("check --json prints one document {\"ok\":true,\"checks\":[…]}") {
  Workspace ws;
  auto r = ws.run({"check", "--json"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  auto doc = require_one_json(r);
  REQUIRE(doc.get("ok").is<bool>());
  CHECK(doc.get("ok").get<bool>());
  REQUIRE(doc.get("checks").is<picojson::array>());
  CHECK_FALSE(doc.get("checks").get<picojson::array>().empty());
}

TEST_CASE("backup FILE writes a mode 0600 SQLite database with the schema migrations") {
  Workspace ws;
  const std::string file = ws.dir.path() + "/backup.db";
  auto r = ws.run({"backup", file});
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  CHECK(permissions(file) == 0600);

  SQLite::Database db(file, SQLite::OPEN_READONLY);
  SQLite::Statement q(db, "SELECT COUNT(*) FROM schema_migrations WHERE version = 1");
  REQUIRE(q.executeStep());
  CHECK(q.getColumn(0).getInt() == 1);
  CHECK(db.execAndGet("PRAGMA integrity_check").getString() == "ok");
}

TEST_CASE("backup refuses to overwrite an existing file (exit 1) and leaves it alone") {
  Workspace ws;
  const std::string file = ws.dir.path() + "/existing";
  write_file(file, "precious");
  auto r = ws.run({"backup", file});
  INFO(describe(r));
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains(file));
  std::ifstream in(file);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(content == "precious");

  SECTION("with --json the error is the one JSON document on stdout") {
    auto j = ws.run({"backup", file, "--json"});
    CHECK(j.exit_code == 1);
    auto doc = require_one_json(j);
    CHECK(doc.get("error").is<std::string>());
  }
}

TEST_CASE("a bad PLUGAUTH_ACCESS_TOKEN_TTL is an error (exit 1) naming access_token_ttl") {
  Workspace ws;
  const std::map<std::string, std::string> env = {{"PLUGAUTH_ACCESS_TOKEN_TTL", "bogus"}};

  SECTION("signing-key list") {
    auto r = ws.run({"signing-key", "list"}, env);
    INFO(describe(r));
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("access_token_ttl"));
  }
  SECTION("serve does not start") {
    const std::string listen = "127.0.0.1:" + std::to_string(free_loopback_port());
    auto r = ws.run({"serve", "--listen", listen}, env);
    INFO(describe(r));
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("access_token_ttl"));
  }
  SECTION("check reports it") {
    auto r = ws.run({"check", "--json"}, env);
    INFO(describe(r));
    CHECK(r.exit_code == 1);
    auto doc = require_one_json(r);
    CHECK_FALSE(doc.get("ok").get<bool>());
    CHECK_THAT(r.out, Catch::Contains("access_token_ttl"));
  }
}

TEST_CASE("a config file with an unknown key is an error (exit 1) naming the key") {
  Workspace ws;
  std::filesystem::create_directory(ws.data);
  std::filesystem::permissions(ws.data, std::filesystem::perms::owner_all);
  write_file(ws.data + "/plugauth.json", R"({"listen": "127.0.0.1:7070", "acess_token_ttl": "5m"})");

  auto r = ws.run({"signing-key", "list"});
  INFO(describe(r));
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("acess_token_ttl"));

  SECTION("also when the file is given with --config") {
    const std::string file = ws.dir.path() + "/other.json";
    write_file(file, R"({"no_such_key": true})");
    auto c = ws.run({"check", "--config", file});
    INFO(describe(c));
    CHECK(c.exit_code == 1);
    CHECK_THAT(c.out + c.err, Catch::Contains("no_such_key"));
  }
}

TEST_CASE("giving --data twice is a usage error (exit 2)") {
  Workspace ws;
  auto r = run_plugauth({"check", "--data", ws.data, "--data", ws.data + "2"});
  INFO(describe(r));
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("--data"));
  CHECK(std::filesystem::is_empty(ws.data));
}

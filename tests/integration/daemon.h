// Integration-test harness: runs the real `plugauth` binary (PLUGAUTH_BINARY)
// as a child process on a free loopback port with a fresh temporary data
// directory, and talks to it over real HTTP.
//
// Every wait is a poll against a deadline (never a fixed sleep), and every
// child is killed and reaped when its owner goes out of scope, so a failing
// assertion never leaves a daemon behind. Only loopback addresses are used.
//
// Not thread-safe: one test drives one Daemon from one thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <picojson.h>

namespace plugauth::testing {

using namespace std::chrono_literals;

// A directory created with mkdtemp under /tmp (mode 0700) and removed,
// with everything in it, on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// What a finished CLI invocation left behind.
struct CommandResult {
  // The exit status; 128 + N when killed by signal N; -1 when it had to be
  // killed because it outran its deadline.
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs `plugauth args…` to completion (killed after `timeout`). `env` is
// added to (and overrides) the test's environment, from which any systemd or
// PLUGAUTH_* variable has been removed first. `stdin_data` is fed to stdin.
CommandResult run_plugauth(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {},
                           const std::string& stdin_data = "", std::chrono::milliseconds timeout = 30s);

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0 and
// released). Another process could take it in between; tests accept that.
int free_loopback_port();

// Parses `text` as exactly one JSON document (only whitespace may follow).
// Returns nullopt, and says why in `error` when given, otherwise.
std::optional<picojson::value> parse_one_json(const std::string& text, std::string* error = nullptr);

// Polls `condition` until it holds or `timeout` passes; returns its last value.
template <typename Condition>
bool eventually(Condition condition, std::chrono::milliseconds timeout, std::chrono::milliseconds step = 10ms);

struct DaemonOptions {
  // Empty: <scratch>/data, which serve creates. Give the same directory to
  // two daemons in turn to test a restart.
  std::string data_dir;
  int port = 0;  // 0: a free loopback port
  std::map<std::string, std::string> env;
  std::vector<std::string> extra_args;  // after `serve --listen … --data …`

  DaemonOptions& with_data_dir(std::string dir) {
    data_dir = std::move(dir);
    return *this;
  }
  DaemonOptions& with_port(int p) {
    port = p;
    return *this;
  }
  DaemonOptions& with_env(const std::string& name, const std::string& value) {
    env[name] = value;
    return *this;
  }
};

// One `plugauth serve` child. Its stderr goes to a file the test can read at
// any time; stdout to /dev/null.
class Daemon {
 public:
  // Starts the process; does not wait for it to serve (see wait_healthy).
  explicit Daemon(DaemonOptions options = {});
  // SIGKILLs the child if it still runs, reaps it, removes the scratch dir.
  // Fails the test, with the daemon's stderr, if the daemon exited without
  // being told to (no send_signal, no wait_exit) or logged a sanitizer
  // report: a crash must not pass as a client's connection error.
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Polls GET /healthz until it answers 200. False if the process exited
  // first or the deadline passed.
  bool wait_healthy(std::chrono::milliseconds timeout = 20s);
  // Starts a daemon and waits for it to be healthy; fails the test (REQUIRE)
  // with the daemon's stderr if it does not come up.
  static std::unique_ptr<Daemon> start(DaemonOptions options = {});

  void send_signal(int signal_number);
  // The exit status once the process has exited (128 + N if killed by signal
  // N), or nullopt if it is still running at the deadline.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout = 20s);
  bool running();
  pid_t pid() const { return pid_; }

  int port() const { return port_; }
  std::string listen_address() const { return "127.0.0.1:" + std::to_string(port_); }
  const std::string& data_dir() const { return data_dir_; }
  const std::string& scratch_dir() const { return scratch_.path(); }
  // Everything the daemon has written to stderr so far.
  std::string stderr_text() const;
  // Polls stderr until it contains `needle`.
  bool wait_for_log(const std::string& needle, std::chrono::milliseconds timeout = 5s) const;

  // Fresh client per call, 5 s timeouts, no keep-alive.
  httplib::Result get(const std::string& path, const httplib::Headers& headers = {}) const;
  httplib::Result post(const std::string& path, const std::string& body, const std::string& content_type,
                       const httplib::Headers& headers = {}) const;
  std::unique_ptr<httplib::Client> client() const;

  // `plugauth args… --data <data_dir>` with the daemon's environment.
  CommandResult cli(std::vector<std::string> args) const;

 private:
  TempDir scratch_;
  std::string data_dir_;
  std::string stderr_path_;
  std::map<std::string, std::string> env_;
  int port_ = 0;
  pid_t pid_ = -1;
  std::optional<int> exit_status_;
  bool exit_expected_ = false;  // send_signal or wait_exit was called
};

// A unix datagram socket bound at `path`, standing in for systemd's
// $NOTIFY_SOCKET (sd_notify(3)).
class NotifySocket {
 public:
  explicit NotifySocket(std::string path);
  ~NotifySocket();
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;
  const std::string& path() const { return path_; }
  // The next datagram, or nullopt if none arrives before the deadline.
  std::optional<std::string> receive(std::chrono::milliseconds timeout = 10s);

 private:
  std::string path_;
  int fd_ = -1;
};

// A blocking TCP connection to 127.0.0.1:port (CLOEXEC), or -1.
int connect_loopback(int port);

// GET `path` and parse the body as JSON; REQUIREs a 200 JSON answer.
picojson::value get_json(const Daemon& daemon, const std::string& path);

template <typename Condition>
bool eventually(Condition condition, std::chrono::milliseconds timeout, std::chrono::milliseconds step) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return condition();
    std::this_thread::sleep_for(step);
  }
}

}  // namespace plugauth::testing

#include "tests/integration/daemon.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <catch2/catch.hpp>

extern char** environ;

namespace plugauth::testing {
namespace {

// Writing to a child's stdin after it exited must be an EPIPE, not the end
// of the test process.
const bool sigpipe_ignored = [] {
  ::signal(SIGPIPE, SIG_IGN);
  return true;
}();

// Variables that would make the child talk to the real systemd or read a
// configuration that is not the test's.
bool inherited_variable_is_hermetic(const std::string& name) {
  static const char* const dropped[] = {"NOTIFY_SOCKET", "CREDENTIALS_DIRECTORY", "STATE_DIRECTORY",
                                        "LISTEN_FDS",    "LISTEN_PID",            "WATCHDOG_USEC",
                                        "WATCHDOG_PID"};
  for (const char* d : dropped)
    if (name == d) return false;
  return name.rfind("PLUGAUTH_", 0) != 0;
}

std::vector<std::string> child_environment(const std::map<std::string, std::string>& extra) {
  std::map<std::string, std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string kv(*e);
    auto eq = kv.find('=');
    if (eq == std::string::npos) continue;
    std::string name = kv.substr(0, eq);
    if (inherited_variable_is_hermetic(name)) env[name] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : extra) env[k] = v;
  std::vector<std::string> out;
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// fork + execve of the plugauth binary with the given fds as 0, 1 and 2.
// Everything the child touches is prepared before fork: between fork and
// exec only async-signal-safe calls are made.
pid_t spawn_plugauth(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
                     int stdin_fd, int stdout_fd, int stderr_fd) {
  std::vector<std::string> argv_strings = {PLUGAUTH_BINARY};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<std::string> env_strings = child_environment(env);
  std::vector<char*> argv = c_strings(argv_strings);
  std::vector<char*> envp = c_strings(env_strings);

  const pid_t test_pid = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    // A test binary that crashes must not leave daemons behind.
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != test_pid) ::_exit(127);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    if (::dup2(stdin_fd, 0) < 0 || ::dup2(stdout_fd, 1) < 0 || ::dup2(stderr_fd, 2) < 0) ::_exit(127);
    // Sockets the test holds (idle connections, the notify socket) must not
    // leak into the daemon.
    ::close_range(3, ~0U, 0);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  return pid;
}

int decode_wait_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

int open_or_throw(const char* path, int flags, mode_t mode = 0) {
  int fd = ::open(path, flags | O_CLOEXEC, mode);
  if (fd < 0) throw std::runtime_error(std::string("open ") + path + ": " + std::strerror(errno));
  return fd;
}

}  // namespace

TempDir::TempDir() {
  std::string tmpl = "/tmp/plugauth-test-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

CommandResult run_plugauth(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
                           const std::string& stdin_data, std::chrono::milliseconds timeout) {
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) != 0 || ::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0)
    throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
  pid_t pid = spawn_plugauth(args, env, in_pipe[0], out_pipe[1], err_pipe[1]);
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);

  CommandResult result;
  int in_fd = in_pipe[1];
  size_t written = 0;
  if (stdin_data.empty()) {
    ::close(in_fd);
    in_fd = -1;
  } else {
    ::fcntl(in_fd, F_SETFL, O_NONBLOCK);
  }
  int out_fd = out_pipe[0], err_fd = err_pipe[0];
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool timed_out = false;
  while (out_fd >= 0 || err_fd >= 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd fds[3];
    nfds_t n = 0;
    if (out_fd >= 0) fds[n++] = {out_fd, POLLIN, 0};
    if (err_fd >= 0) fds[n++] = {err_fd, POLLIN, 0};
    if (in_fd >= 0) fds[n++] = {in_fd, POLLOUT, 0};
    int ready = ::poll(fds, n, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
    for (nfds_t i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      if (fds[i].fd == in_fd) {
        ssize_t w = ::write(in_fd, stdin_data.data() + written, stdin_data.size() - written);
        if (w > 0) written += static_cast<size_t>(w);
        if (w < 0 && errno != EAGAIN && errno != EINTR) written = stdin_data.size();  // child closed stdin
        if (written == stdin_data.size()) {
          ::close(in_fd);
          in_fd = -1;
        }
        continue;
      }
      char buf[4096];
      ssize_t r = ::read(fds[i].fd, buf, sizeof buf);
      if (r < 0 && errno == EINTR) continue;
      std::string& sink = fds[i].fd == out_fd ? result.out : result.err;
      if (r > 0) {
        sink.append(buf, static_cast<size_t>(r));
      } else {
        ::close(fds[i].fd);
        (fds[i].fd == out_fd ? out_fd : err_fd) = -1;
      }
    }
  }
  for (int fd : {in_fd, out_fd, err_fd})
    if (fd >= 0) ::close(fd);

  int status = 0;
  for (;;) {
    pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (timed_out || std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      result.exit_code = -1;
      return result;
    }
    std::this_thread::sleep_for(2ms);
  }
  result.exit_code = decode_wait_status(status);
  return result;
}

int free_loopback_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error(std::string("bind 127.0.0.1:0: ") + std::strerror(errno));
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::optional<picojson::value> parse_one_json(const std::string& text, std::string* error) {
  picojson::value v;
  std::string err;
  auto end = picojson::parse(v, text.begin(), text.end(), &err);
  if (!err.empty()) {
    if (error) *error = err;
    return std::nullopt;
  }
  for (auto it = end; it != text.end(); ++it) {
    if (*it != ' ' && *it != '\n' && *it != '\t' && *it != '\r') {
      if (error) *error = "more than one JSON document: trailing \"" + std::string(it, text.end()) + "\"";
      return std::nullopt;
    }
  }
  return v;
}

Daemon::Daemon(DaemonOptions options)
    : data_dir_(options.data_dir.empty() ? scratch_.path() + "/data" : options.data_dir),
      stderr_path_(scratch_.path() + "/stderr.log"),
      env_(std::move(options.env)),
      port_(options.port != 0 ? options.port : free_loopback_port()) {
  std::vector<std::string> args = {"serve", "--listen", listen_address(), "--data", data_dir_};
  args.insert(args.end(), options.extra_args.begin(), options.extra_args.end());
  int null_fd = open_or_throw("/dev/null", O_RDWR);
  int err_fd = open_or_throw(stderr_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
  try {
    pid_ = spawn_plugauth(args, env_, null_fd, null_fd, err_fd);
  } catch (...) {
    ::close(null_fd);
    ::close(err_fd);
    throw;
  }
  ::close(null_fd);
  ::close(err_fd);
}

Daemon::~Daemon() {
  const bool died = pid_ > 0 && !running() && !exit_expected_;
  if (pid_ > 0 && !exit_status_) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  if (pid_ <= 0 || std::uncaught_exceptions() > 0) return;
  const std::string err = stderr_text();
  if (died) FAIL_CHECK("plugauth serve exited during the test (status " << *exit_status_ << "); its stderr:\n" << err);
  else if (err.find("Sanitizer") != std::string::npos || err.find("runtime error:") != std::string::npos)
    FAIL_CHECK("plugauth serve logged a sanitizer report; its stderr:\n" << err);
}

std::unique_ptr<Daemon> Daemon::start(DaemonOptions options) {
  auto daemon = std::make_unique<Daemon>(std::move(options));
  const bool healthy = daemon->wait_healthy();
  INFO("daemon stderr:\n" << daemon->stderr_text());
  REQUIRE(healthy);
  return daemon;
}

bool Daemon::running() {
  if (exit_status_) return false;
  int status = 0;
  pid_t w = ::waitpid(pid_, &status, WNOHANG);
  if (w == pid_) {
    exit_status_ = decode_wait_status(status);
    return false;
  }
  return true;
}

std::optional<int> Daemon::wait_exit(std::chrono::milliseconds timeout) {
  exit_expected_ = true;
  eventually([this] { return !running(); }, timeout, 5ms);
  return exit_status_;
}

void Daemon::send_signal(int signal_number) {
  exit_expected_ = true;
  if (running()) ::kill(pid_, signal_number);
}

bool Daemon::wait_healthy(std::chrono::milliseconds timeout) {
  bool healthy = false;
  eventually(
      [&] {
        if (!running()) return true;  // it will never answer: stop waiting
        httplib::Client c("127.0.0.1", port_);
        c.set_connection_timeout(0, 200 * 1000);
        c.set_read_timeout(2, 0);
        auto res = c.Get("/healthz");
        healthy = res && res->status == 200;
        return healthy;
      },
      timeout, 20ms);
  return healthy && running();
}

std::string Daemon::stderr_text() const {
  std::ifstream in(stderr_path_, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool Daemon::wait_for_log(const std::string& needle, std::chrono::milliseconds timeout) const {
  return eventually([&] { return stderr_text().find(needle) != std::string::npos; }, timeout);
}

std::unique_ptr<httplib::Client> Daemon::client() const {
  auto c = std::make_unique<httplib::Client>("127.0.0.1", port_);
  c->set_connection_timeout(2, 0);
  c->set_read_timeout(5, 0);
  c->set_write_timeout(5, 0);
  c->set_keep_alive(false);
  return c;
}

httplib::Result Daemon::get(const std::string& path, const httplib::Headers& headers) const {
  return client()->Get(path, headers);
}

httplib::Result Daemon::post(const std::string& path, const std::string& body, const std::string& content_type,
                             const httplib::Headers& headers) const {
  return client()->Post(path, headers, body, content_type);
}

CommandResult Daemon::cli(std::vector<std::string> args) const {
  args.push_back("--data");
  args.push_back(data_dir_);
  return run_plugauth(args, env_);
}

NotifySocket::NotifySocket(std::string path) : path_(std::move(path)) {
  sockaddr_un addr{};
  if (path_.size() >= sizeof addr.sun_path) throw std::runtime_error("notify socket path too long: " + path_);
  fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error(std::string("socket(AF_UNIX): ") + std::strerror(errno));
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path_.data(), path_.size());
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd_);
    throw std::runtime_error("bind " + path_ + ": " + std::strerror(errno));
  }
}

NotifySocket::~NotifySocket() {
  ::close(fd_);
  ::unlink(path_.c_str());
}

std::optional<std::string> NotifySocket::receive(std::chrono::milliseconds timeout) {
  pollfd p{fd_, POLLIN, 0};
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() < 0) return std::nullopt;
    int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return std::nullopt;
    char buf[4096];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    return std::string(buf, static_cast<size_t>(n));
  }
}

int connect_loopback(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

picojson::value get_json(const Daemon& daemon, const std::string& path) {
  auto res = daemon.get(path);
  INFO("GET " << path << " (" << httplib::to_string(res.error()) << ")");
  REQUIRE(res);
  INFO("body: " << res->body);
  REQUIRE(res->status == 200);
  REQUIRE(res->get_header_value("Content-Type").rfind("application/json", 0) == 0);
  std::string error;
  auto doc = parse_one_json(res->body, &error);
  INFO("JSON error: " << error);
  REQUIRE(doc.has_value());
  return *doc;
}

}  // namespace plugauth::testing

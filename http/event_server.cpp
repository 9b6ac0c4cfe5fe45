#include "http/event_server.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <string_view>
#include <unordered_map>

#include "common/log.h"

namespace plugauth::http {
namespace {

using SteadyClock = std::chrono::steady_clock;

// A request line and its headers fit in this much (httplib's own limits:
// 8 KiB per header line, 100 headers, are checked by its parser on the
// worker path; anything this big goes there).
constexpr size_t kMaxHeadBytes = 16 * 1024;
constexpr size_t kReadChunk = 16 * 1024;
constexpr int kMaxEvents = 256;
constexpr auto kSweepInterval = std::chrono::milliseconds(250);
// How long the loops stop accepting when the process is out of descriptors.
constexpr auto kAcceptPause = std::chrono::milliseconds(100);
// How long a worker keeps a connection for its next request before giving
// it back to its loop: a client's next call (a refresh chain, a page then
// its stylesheet) usually follows at once, and each trip through the loop
// costs two thread wake-ups.
constexpr int kWorkerLingerMs = 100;

bool iequals_prefix(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    const char a = s[i] >= 'A' && s[i] <= 'Z' ? static_cast<char>(s[i] - 'A' + 'a') : s[i];
    if (a != prefix[i]) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Whether a complete request head (ending in CRLF CRLF) is one the loop
// thread serves itself: /verify, no body, nothing that asks for an interim
// response. Everything else goes to a worker, where httplib decides it.
bool served_on_loop(std::string_view head) {
  const size_t line_end = head.find("\r\n");
  const std::string_view line = head.substr(0, line_end);
  const size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return false;
  const size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return false;
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (target.substr(0, target.find('?')) != "/verify") return false;
  for (size_t pos = line_end + 2; pos < head.size();) {
    const size_t end = head.find("\r\n", pos);
    const std::string_view field = head.substr(pos, end - pos);
    if (field.empty()) break;
    if (iequals_prefix(field, "content-length:")) {
      if (trim(field.substr(15)) != "0") return false;
    } else if (iequals_prefix(field, "transfer-encoding:") || iequals_prefix(field, "expect:")) {
      return false;
    }
    pos = end + 2;
  }
  return true;
}

void set_timeout(int fd, int option, time_t seconds) {
  timeval tv{};
  tv.tv_sec = seconds;
  ::setsockopt(fd, SOL_SOCKET, option, &tv, sizeof tv);
}

}  // namespace

struct EventServer::Connection {
  int fd = -1;
  std::string in;   // bytes received and not yet processed
  std::string out;  // response bytes not yet sent
  size_t out_off = 0;
  std::string remote_addr, local_addr;
  int remote_port = 0, local_port = 0;
  size_t requests = 0;
  SteadyClock::time_point idle_since;     // last response sent (or accepted)
  SteadyClock::time_point request_since;  // first byte of the pending request
  SteadyClock::time_point write_since;    // output started waiting for the peer
  bool close_after_write = false;
  bool want_write = false;
  EventServer::Loop* home = nullptr;  // the loop that accepted it, and takes it back

  Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() {
    if (fd >= 0) {
      ::shutdown(fd, SHUT_RDWR);
      ::close(fd);
    }
  }
};

namespace {

// What either stream tells httplib of its connection.
class ConnectionStream : public httplib::Stream {
 public:
  explicit ConnectionStream(const EventServer::Connection& conn) : peer_(conn) {}
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = peer_.remote_addr;
    port = peer_.remote_port;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = peer_.local_addr;
    port = peer_.local_port;
  }
  socket_t socket() const override { return peer_.fd; }

 private:
  const EventServer::Connection& peer_;
};

// One request already in memory: httplib reads it from here and writes its
// response into the connection's output buffer.
class MemoryStream final : public ConnectionStream {
 public:
  MemoryStream(const EventServer::Connection& conn, std::string_view request, std::string& out)
      : ConnectionStream(conn), data_(request), out_(out) {}
  bool is_readable() const override { return off_ < data_.size(); }
  bool is_writable() const override { return true; }
  ssize_t read(char* ptr, size_t size) override {
    const size_t n = std::min(size, data_.size() - off_);
    std::memcpy(ptr, data_.data() + off_, n);
    off_ += n;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char* ptr, size_t size) override {
    out_.append(ptr, size);
    return static_cast<ssize_t>(size);
  }

 private:
  std::string_view data_;
  size_t off_ = 0;
  std::string& out_;
};

// A handed-off connection on a worker thread: first the bytes the loop had
// already read, then the blocking socket, with httplib's timeouts.
class BlockingStream final : public ConnectionStream {
 public:
  BlockingStream(EventServer::Connection& conn, time_t read_timeout_sec, time_t write_timeout_sec)
      : ConnectionStream(conn),
        conn_(conn),
        read_ms_(static_cast<int>(read_timeout_sec * 1000)),
        write_ms_(static_cast<int>(write_timeout_sec * 1000)) {}

  bool has_buffered() const { return off_ < conn_.in.size(); }
  // True when bytes are buffered or arrive within timeout_ms (or the peer
  // closed: the next read tells).
  bool more_within(int timeout_ms) const { return has_buffered() || wait(POLLIN, timeout_ms); }
  bool is_readable() const override { return has_buffered() || wait(POLLIN, read_ms_); }
  bool is_writable() const override { return wait(POLLOUT, write_ms_); }

  // The head of the request being read (httplib reads it a byte at a
  // time), for restore_raw_fields(); reset before each request.
  void start_head() {
    head_.clear();
    head_done_ = false;
  }
  std::string_view head() const { return head_; }

  ssize_t read(char* ptr, size_t size) override {
    const ssize_t n = read_some(ptr, size);
    if (n > 0 && !head_done_) {
      for (ssize_t i = 0; i < n && !head_done_; ++i) {
        head_.push_back(ptr[i]);
        head_done_ = head_.size() >= kMaxCapturedHead ||
                     (head_.size() >= 4 && std::string_view(head_).substr(head_.size() - 4) == "\r\n\r\n");
      }
    }
    return n;
  }

 private:
  static constexpr size_t kMaxCapturedHead = 1 << 20;

  ssize_t read_some(char* ptr, size_t size) {
    if (!has_buffered()) {
      if (!wait(POLLIN, read_ms_)) return -1;
      conn_.in.resize(kReadChunk);
      off_ = 0;
      ssize_t n;
      do {
        n = ::recv(conn_.fd, conn_.in.data(), conn_.in.size(), 0);
      } while (n < 0 && errno == EINTR);
      conn_.in.resize(n > 0 ? static_cast<size_t>(n) : 0);
      if (n <= 0) return n;
    }
    const size_t n = std::min(size, conn_.in.size() - off_);
    std::memcpy(ptr, conn_.in.data() + off_, n);
    off_ += n;
    return static_cast<ssize_t>(n);
  }


 public:
  ssize_t write(const char* ptr, size_t size) override {
    if (!wait(POLLOUT, write_ms_)) return -1;
    ssize_t n;
    do {
      n = ::send(conn_.fd, ptr, size, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n;
  }

 private:
  bool wait(short events, int timeout_ms) const {
    pollfd p{conn_.fd, events, 0};
    int r;
    do {
      r = ::poll(&p, 1, timeout_ms);
    } while (r < 0 && errno == EINTR);
    return r > 0 && (p.revents & (events | POLLHUP)) != 0 && (p.revents & POLLNVAL) == 0;
  }

  EventServer::Connection& conn_;
  size_t off_ = 0;
  int read_ms_, write_ms_;
  std::string head_;
  bool head_done_ = false;
};

}  // namespace

// One event loop: its own epoll set with the shared listening socket and
// the connections it accepted.
struct EventServer::Loop {
  EventServer& server;
  int epfd = -1;
  int wake_fd = -1;
  std::unordered_map<int, std::shared_ptr<Connection>> conns;
  // Connections workers hand back between requests (adopt()).
  std::mutex inbox_mu;
  std::vector<std::shared_ptr<Connection>> inbox;
  std::thread thread;
  SteadyClock::time_point last_sweep = SteadyClock::now();
  SteadyClock::time_point accept_paused_until{};
  bool listening = false;

  explicit Loop(EventServer& s) : server(s) {}
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;
  ~Loop() {
    if (thread.joinable()) thread.join();
    conns.clear();
    if (wake_fd >= 0) ::close(wake_fd);
    if (epfd >= 0) ::close(epfd);
  }

  bool init() {
    epfd = ::epoll_create1(EPOLL_CLOEXEC);
    wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (epfd < 0 || wake_fd < 0) return false;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = wake_fd;
    if (::epoll_ctl(epfd, EPOLL_CTL_ADD, wake_fd, &ev) != 0) return false;
    return listen(true);
  }

  bool listen(bool on) {
    if (on == listening) return true;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLEXCLUSIVE;
    ev.data.fd = server.listen_fd_;
    if (::epoll_ctl(epfd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, server.listen_fd_, &ev) != 0) return false;
    listening = on;
    return true;
  }

  void wake() {
    const uint64_t one = 1;
    ssize_t ignored = ::write(wake_fd, &one, sizeof one);
    (void)ignored;
  }

  void run() {
    epoll_event events[kMaxEvents];
    while (!server.stopping_.load(std::memory_order_relaxed)) {
      const int n = ::epoll_wait(epfd, events, kMaxEvents, static_cast<int>(kSweepInterval.count()));
      if (n < 0 && errno != EINTR) {
        log_error(std::string("epoll_wait failed: ") + std::strerror(errno));
        break;
      }
      const auto now = SteadyClock::now();
      for (int i = 0; i < n; ++i) {
        const int fd = events[i].data.fd;
        if (fd == wake_fd) {
          take_inbox(now);
          continue;
        }
        if (fd == server.listen_fd_) {
          accept_all(now);
          continue;
        }
        auto it = conns.find(fd);
        if (it == conns.end()) continue;
        Connection& c = *it->second;
        if (events[i].events & EPOLLERR) {
          drop(c);
          continue;
        }
        if ((events[i].events & EPOLLOUT) && !flush(c, now)) continue;
        if (events[i].events & (EPOLLIN | EPOLLHUP))
          receive(c, now);
        else if (!c.want_write)
          process(c, now);  // output drained: serve what is buffered
      }
      if (now - last_sweep >= kSweepInterval) sweep(now);
    }
    conns.clear();
  }

  void accept_all(SteadyClock::time_point now) {
    while (true) {
      const int fd = ::accept4(server.listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
          // Out of descriptors: stop accepting for a moment rather than spin.
          log_warn("cannot accept a connection: " + std::string(std::strerror(errno)));
          listen(false);
          accept_paused_until = now + kAcceptPause;
        }
        return;  // EAGAIN: none left
      }
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      auto conn = std::make_shared<Connection>();
      conn->fd = fd;
      conn->home = this;
      httplib::detail::get_remote_ip_and_port(fd, conn->remote_addr, conn->remote_port);
      httplib::detail::get_local_ip_and_port(fd, conn->local_addr, conn->local_port);
      watch(std::move(conn), now);
    }
  }

  // Takes a connection into this loop, waiting for its next request.
  void watch(std::shared_ptr<Connection> conn, SteadyClock::time_point now) {
    conn->idle_since = now;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = conn->fd;
    if (::epoll_ctl(epfd, EPOLL_CTL_ADD, conn->fd, &ev) != 0) return;  // conn closes the socket
    const int fd = conn->fd;
    conns.emplace(fd, std::move(conn));
  }

  void drop(Connection& c) { conns.erase(c.fd); }

  // From a worker thread: a handed-off connection waits here for its next
  // request, not on a thread.
  void adopt(std::shared_ptr<Connection> conn) {
    {
      std::lock_guard lock(inbox_mu);
      inbox.push_back(std::move(conn));
    }
    wake();
  }

  void take_inbox(SteadyClock::time_point now) {
    uint64_t count;
    ssize_t ignored = ::read(wake_fd, &count, sizeof count);
    (void)ignored;
    std::vector<std::shared_ptr<Connection>> taken;
    {
      std::lock_guard lock(inbox_mu);
      taken.swap(inbox);
    }
    for (auto& conn : taken) {
      ::fcntl(conn->fd, F_SETFL, ::fcntl(conn->fd, F_GETFL) | O_NONBLOCK);
      watch(std::move(conn), now);
    }
  }

  void interest(Connection& c, uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = c.fd;
    ::epoll_ctl(epfd, EPOLL_CTL_MOD, c.fd, &ev);
  }

  void receive(Connection& c, SteadyClock::time_point now) {
    char buf[kReadChunk];
    bool peer_closed = false;
    while (c.in.size() < kMaxHeadBytes + kReadChunk) {
      const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
      if (n > 0) {
        if (c.in.empty()) c.request_since = now;
        c.in.append(buf, static_cast<size_t>(n));
        if (static_cast<size_t>(n) < sizeof buf) break;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      peer_closed = true;  // end of stream or a reset
      break;
    }
    if (peer_closed) {
      // Nothing more will come: answer what is complete, then close.
      c.close_after_write = true;
      if (c.in.find("\r\n\r\n") == std::string::npos) {
        drop(c);
        return;
      }
    }
    process(c, now);
  }

  // Serves every complete request in the buffer that the loop may serve;
  // hands the connection off at the first one it may not.
  void process(Connection& c, SteadyClock::time_point now) {
    while (!c.want_write) {
      const size_t head_end = c.in.find("\r\n\r\n");
      if (head_end == std::string::npos) {
        // Lines ending in a bare LF (RFC 9112 §2.2 lets a server refuse
        // them; httplib would wait for a CRLF until its read timeout).
        if (c.in.find("\n\n") != std::string::npos) {
          refuse_malformed(c);
          break;
        }
        // Too big to be a /verify: httplib decides it, with its limits.
        if (c.in.size() > kMaxHeadBytes) return hand_off(c);
        break;
      }
      const size_t end = head_end + 4;
      if (!served_on_loop(std::string_view(c.in).substr(0, end))) return hand_off(c);
      bool close_after = false;
      server.process_buffered_request(c, end, close_after);
      c.in.erase(0, end);
      if (!c.in.empty()) c.request_since = now;
      if (close_after) {
        c.close_after_write = true;
        c.in.clear();
        break;
      }
      if (!flush(c, now)) return;
    }
    flush(c, now);
  }

  // A 400 like the error handler's, then the close.
  void refuse_malformed(Connection& c) {
    static const std::string body = R"({"error":"invalid_request","error_description":"malformed request"})";
    c.out += "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: " +
             std::to_string(body.size()) +
             "\r\nConnection: close\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n\r\n" +
             body;
    c.in.clear();
    c.close_after_write = true;
  }

  // Sends pending output; false when the connection is gone.
  bool flush(Connection& c, SteadyClock::time_point now) {
    while (c.out_off < c.out.size()) {
      const ssize_t n = ::send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
      if (n > 0) {
        c.out_off += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (!c.want_write) {
          // Stop reading until the peer takes its responses: bounded output.
          c.want_write = true;
          c.write_since = now;
          interest(c, EPOLLOUT);
        }
        return true;
      }
      drop(c);
      return false;
    }
    c.out.clear();
    c.out_off = 0;
    c.idle_since = now;
    if (c.want_write) {
      c.want_write = false;
      interest(c, EPOLLIN);
    }
    if (c.close_after_write) {
      drop(c);
      return false;
    }
    return true;
  }

  void hand_off(Connection& c) {
    const int fd = c.fd;
    ::epoll_ctl(epfd, EPOLL_CTL_DEL, fd, nullptr);
    auto it = conns.find(fd);
    std::shared_ptr<Connection> conn = std::move(it->second);
    conns.erase(it);
    // The worker serves it the way httplib does: blocking, with timeouts.
    const int flags = ::fcntl(fd, F_GETFL);
    ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    set_timeout(fd, SO_RCVTIMEO, server.read_timeout_sec_);
    set_timeout(fd, SO_SNDTIMEO, server.write_timeout_sec_);
    EventServer* s = &server;
    s->workers_->enqueue([s, conn]() mutable { s->serve_handed_off(std::move(conn)); });
  }

  // Closes connections that outstayed a timeout: idle beyond keep-alive,
  // a request still arriving after the read timeout, a response the peer
  // has not taken within the write timeout.
  void sweep(SteadyClock::time_point now) {
    last_sweep = now;
    if (!listening && now >= accept_paused_until) listen(true);
    const auto keep_alive = std::chrono::seconds(server.keep_alive_timeout_sec_);
    const auto read_timeout = std::chrono::seconds(server.read_timeout_sec_);
    const auto write_timeout = std::chrono::seconds(server.write_timeout_sec_);
    std::vector<int> expired;
    for (const auto& [fd, c] : conns) {
      if (c->want_write   ? now - c->write_since > write_timeout
          : c->in.empty() ? now - c->idle_since > keep_alive
                          : now - c->request_since > read_timeout)
        expired.push_back(fd);
    }
    for (int fd : expired) conns.erase(fd);
  }
};

EventServer::EventServer() = default;

EventServer::~EventServer() {
  stop();
  loops_.clear();
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

Status EventServer::bind(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (const int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &found);
      rc != 0)
    return make_error(std::string("cannot resolve the listen address: ") + ::gai_strerror(rc));
  std::string why = "no usable address";
  for (addrinfo* a = found; a; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    // SO_REUSEADDR only: SO_REUSEPORT would let a second daemon bind the
    // same port and silently take half the connections.
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (a->ai_family == AF_INET6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, 1024) == 0) {
      listen_fd_ = fd;
      break;
    }
    why = std::strerror(errno);
    ::close(fd);
  }
  ::freeaddrinfo(found);
  if (listen_fd_ < 0) return make_error(why);
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    bound_port_ = addr.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port)
                                             : ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  }
  // Half the cores, at most 4: one loop serves well over 100,000 /verify
  // requests a second, and the proxy and the plugin it guards run on the
  // same machine and need the other half. More loops than free cores only
  // make the scheduler preempt a loop with answers in hand (tail latency).
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const unsigned loops = std::clamp(cores / 2, 1u, 4u);
  for (unsigned i = 0; i < loops; ++i) {
    auto loop = std::make_unique<Loop>(*this);
    if (!loop->init())
      return make_error(std::string("cannot set up the event loop: ") + std::strerror(errno));
    loops_.push_back(std::move(loop));
  }
  return ok_status();
}

void EventServer::run() {
  if (listen_fd_ < 0 || stopping_) return;
  workers_ = std::make_unique<httplib::ThreadPool>(worker_threads_);
  keep_alive_value_ =
      "timeout=" + std::to_string(keep_alive_timeout_sec_) + ", max=" + std::to_string(keep_alive_max_count_);
  for (auto& loop : loops_) loop->thread = std::thread([l = loop.get()] { l->run(); });
  for (auto& loop : loops_) loop->thread.join();
  // Workers finish the request in hand; a connection they give back after
  // stop() stays in its loop's inbox and closes with it.
  workers_->shutdown();
}

void EventServer::stop() {
  if (stopping_.exchange(true)) return;
  for (auto& loop : loops_) loop->wake();
}

bool EventServer::process_buffered_request(Connection& conn, size_t request_end, bool& close_after) {
  const std::string_view head = std::string_view(conn.in).substr(0, request_end);
  const bool last = ++conn.requests >= keep_alive_max_count_;
  if (fast_handler_) {
    PlainRequest req;
    if (parse_plain_get(head, fast_path_, req)) {
      req.remote_addr = conn.remote_addr;
      PlainResponse res;
      fast_handler_(req, res);
      if (res.status == -1) res.status = 200;
      // httplib closes on "Connection: close"; so does a repeated field that says it.
      const bool asked_to_close = req.has_header_value("Connection", "close");
      close_after = last || asked_to_close;
      write_plain_response(res, close_after, keep_alive_value_, conn.out);
      return true;
    }
  }
  MemoryStream strm(conn, head, conn.out);
  bool connection_closed = false;
  const std::function<void(httplib::Request&)> keep_raw = [this, head](httplib::Request& r) {
    restore_raw_fields(head, r.headers);
    resolve_client_address(r);
  };
  const bool ok = process_request(strm, conn.remote_addr, conn.remote_port, conn.local_addr, conn.local_port,
                                  last, connection_closed, keep_raw);
  close_after = !ok || connection_closed || last;
  return ok;
}

void EventServer::resolve_client_address(httplib::Request& req) const {
  if (!trusted_ || req.path == fast_path_) return;
  std::vector<std::string_view> forwarded_for;
  auto range = req.headers.equal_range("X-Forwarded-For");
  for (auto it = range.first; it != range.second; ++it) forwarded_for.emplace_back(it->second);
  if (auto client = client_address(req.remote_addr, forwarded_for, *trusted_)) req.remote_addr = std::move(*client);
}

void EventServer::serve_handed_off(std::shared_ptr<Connection> conn) {
  BlockingStream strm(*conn, read_timeout_sec_, write_timeout_sec_);
  // Responses to requests the loop already served go out first, in order.
  for (size_t off = conn->out_off; off < conn->out.size();) {
    const ssize_t n = strm.write(conn->out.data() + off, conn->out.size() - off);
    if (n <= 0) return;  // the last reference goes: the socket closes
    off += static_cast<size_t>(n);
  }
  conn->out.clear();
  conn->out_off = 0;
  if (conn->close_after_write && !strm.has_buffered()) return;
  do {
    const bool last = ++conn->requests >= keep_alive_max_count_ || conn->close_after_write;
    bool connection_closed = false;
    strm.start_head();
    const std::function<void(httplib::Request&)> keep_raw = [this, &strm](httplib::Request& r) {
      restore_raw_fields(strm.head(), r.headers);
      resolve_client_address(r);
    };
    const bool ok = process_request(strm, conn->remote_addr, conn->remote_port, conn->local_addr,
                                    conn->local_port, last, connection_closed, keep_raw);
    if (!ok || connection_closed || last || stopping_) return;
  } while (strm.more_within(kWorkerLingerMs));
  // Idle: the connection goes back to its loop to wait for its next request.
  conn->in.clear();
  Loop* home = conn->home;
  home->adopt(std::move(conn));
}

}  // namespace plugauth::http

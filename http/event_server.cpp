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
#include <cstdint>
#include <tuple>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <string_view>
#include <unordered_map>

#include "common/log.h"
#include "http/request_framing.h"

namespace plugauth::http {
namespace {

using SteadyClock = std::chrono::steady_clock;

// A head fits in kMaxHeadBytes, a body in kMaxBodyBytes (http/plain_get.h).
constexpr size_t kReadChunk = 16 * 1024;
// What one loop holds of requests not yet answered, all its connections
// together: past it, the unfinished requests holding the most (then the oldest) are
// answered 503 and closed until it holds three quarters (so thousands of
// slow senders of 64 KiB heads and bodies cannot take the machine's memory).
constexpr size_t kLoopBufferedBudget = 64 * 1024 * 1024;
constexpr int kMaxEvents = 256;
constexpr auto kSweepInterval = std::chrono::milliseconds(250);
// How long the loops stop accepting when the process is out of descriptors.
constexpr auto kAcceptPause = std::chrono::milliseconds(100);
// How long an answered connection that must close is read out (see
// Connection::lingering).
constexpr auto kLingerTime = std::chrono::seconds(2);

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
  // Answered and half-closed: what the peer still sends is read and thrown
  // away until it closes or kLingerTime passes. Closing with unread input
  // would send a reset, and a reset can destroy the answer (a 400, a 414)
  // before the peer has read it.
  bool lingering = false;
  bool continue_sent = false;  // 100 Continue answered for the pending request
  size_t accounted = 0;         // `in`'s capacity as the loop's `buffered` counts it
  RequestFramer framer;         // where the pending request in `in` ends
  SteadyClock::time_point linger_since;
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
  size_t buffered = 0;  // memory of `in` over all conns, as last accounted

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
        if (c.lingering) {
          discard_input(c);
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
  // False when it could not be watched (the connection then closes).
  bool watch(std::shared_ptr<Connection> conn, SteadyClock::time_point now) {
    conn->idle_since = now;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = conn->fd;
    if (::epoll_ctl(epfd, EPOLL_CTL_ADD, conn->fd, &ev) != 0) return false;  // conn closes the socket
    const int fd = conn->fd;
    conn->accounted = 0;
    conn->framer.reset();
    Connection& c = *conn;
    conns.emplace(fd, std::move(conn));
    account(c);
    return true;
  }

  void drop(Connection& c) { forget(c.fd); }

  // Every connection leaves `conns` through here, its bytes uncounted.
  void forget(int fd) {
    auto it = conns.find(fd);
    if (it == conns.end()) return;
    buffered -= it->second->accounted;
    it->second->accounted = 0;
    conns.erase(it);
  }

  // What `in` takes in memory (its capacity: a string keeps what it grew
  // to), given back once it is empty.
  void account(Connection& c) {
    if (c.in.empty() && c.in.capacity() > kReadChunk) c.in.shrink_to_fit();
    buffered = buffered - c.accounted + c.in.capacity();
    c.accounted = c.in.capacity();
  }

  // Past the budget, the unfinished requests holding the most are refused
  // (503, then the close) until three quarters of it are left.
  void enforce_budget(SteadyClock::time_point now) {
    if (buffered <= kLoopBufferedBudget) return;
    // The largest first (a real request is small and quick; what fills the
    // budget is big and slow), the oldest among equals.
    std::vector<std::tuple<size_t, SteadyClock::time_point, int>> partial;
    for (const auto& [fd, c] : conns)
      if (!c->lingering && !c->want_write && !c->in.empty())
        partial.emplace_back(SIZE_MAX - c->in.capacity(), c->request_since, fd);
    std::sort(partial.begin(), partial.end());
    for (const auto& [size, since, fd] : partial) {
      if (buffered <= kLoopBufferedBudget / 4 * 3) break;
      auto it = conns.find(fd);
      if (it == conns.end()) continue;
      Connection& c = *it->second;
      refuse_request(c, 503, "too many unfinished requests are held; this one held the most");
      flush(c, now);
    }
  }

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
      Connection& c = *conn;
      if (!watch(std::move(conn), now)) continue;
      // The worker's answer goes out from here; then the next request, if
      // its bytes are here, or the lingering close.
      if (!c.in.empty()) c.request_since = now;
      if (flush(c, now)) process(c, now);
    }
  }

  void interest(Connection& c, uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = c.fd;
    ::epoll_ctl(epfd, EPOLL_CTL_MOD, c.fd, &ev);
  }

  void receive(Connection& c, SteadyClock::time_point now) {
    if (c.lingering) return discard_input(c);
    char buf[kReadChunk];
    bool peer_closed = false;
    while (c.in.size() < kMaxHeadBytes + kMaxBodyBytes + kReadChunk) {
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
    account(c);
    if (buffered > kLoopBufferedBudget) {
      const int fd = c.fd;
      enforce_budget(now);  // may close c: look it up again
      auto it = conns.find(fd);
      if (it == conns.end() || it->second.get() != &c || c.close_after_write) return;
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
      const Framing next = c.framer.next(c.in);
      if (next.kind == Framing::Kind::Refuse) {
        refuse_head(c, next.refusal);
        break;
      }
      if (next.kind == Framing::Kind::NeedMore) {
        if (next.expects_continue && !c.continue_sent) {
          c.continue_sent = true;
          c.out += "HTTP/1.1 100 Continue\r\n\r\n";
          flush(c, now);
        }
        break;
      }
      // A dripping body held no thread: it arrived here, on the loop, within
      // the request deadline of its first byte (see sweep()).
      if (!next.on_loop) return hand_off(c, next.head_end, next.request_end);
      const size_t end = next.request_end;
      bool close_after = false;
      server.process_buffered_request(c, end, end, close_after);
      c.in.erase(0, end);
      c.framer.reset();
      if (c.in.empty()) account(c);
      if (!c.in.empty()) c.request_since = now;
      if (close_after) {
        c.close_after_write = true;
        c.in.clear();
        c.framer.reset();
        account(c);
        break;
      }
      if (!flush(c, now)) return;
    }
    flush(c, now);
  }

  // SPEC §8.10: the error handler's JSON, naming what is wrong, then the
  // close; nothing after the refused head is read.
  void refuse_head(Connection& c, HeadRefusal refusal) { refuse_request(c, refusal.status, refusal.message); }

  // Answers a request the loop will not hand on, and closes after the answer.
  void refuse_request(Connection& c, int status, std::string_view message) {
    const char* reason = status == 503   ? "Service Unavailable"
                         : status == 408 ? "Request Timeout"
                         : status == 411 ? "Length Required"
                         : status == 413 ? "Content Too Large"
                         : status == 414 ? "URI Too Long"
                         : status == 431 ? "Request Header Fields Too Large"
                                         : "Bad Request";
    const std::string description =
        status == 400 ? "malformed request: " + std::string(message) : std::string(message);
    const std::string body = std::string(R"({"error":")") +
                             (status == 503 ? "temporarily_unavailable" : "invalid_request") +
                             R"(","error_description":")" + description + "\"}";
    c.out += "HTTP/1.1 " + std::to_string(status) + " " + reason +
             "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
             "\r\nConnection: close\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n" +
             (status == 503 ? "Retry-After: 1\r\n" : "") + "\r\n" + body;
    c.in.clear();
    c.framer.reset();
    account(c);
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
      linger(c, now);
      return false;
    }
    return true;
  }

  // Half-closes an answered connection and reads out what the peer still
  // sends (see Connection::lingering).
  void linger(Connection& c, SteadyClock::time_point now) {
    ::shutdown(c.fd, SHUT_WR);
    c.lingering = true;
    c.linger_since = now;
    c.in.clear();
    c.framer.reset();
    account(c);
    discard_input(c);
  }

  // Reads and throws away; drops the connection at end of stream.
  void discard_input(Connection& c) {
    char buf[kReadChunk];
    for (;;) {
      const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
      if (n > 0) continue;
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      drop(c);  // end of stream, or a reset
      return;
    }
  }

  // To a worker: the request in c.in[0, request_end), whole. The worker
  // answers into c.out and gives the connection back (take_inbox), never
  // touching the socket.
  void hand_off(Connection& c, size_t head_end, size_t request_end) {
    const int fd = c.fd;
    ::epoll_ctl(epfd, EPOLL_CTL_DEL, fd, nullptr);
    std::shared_ptr<Connection> conn = conns.find(fd)->second;
    forget(fd);
    EventServer* s = &server;
    s->workers_->enqueue([s, conn, head_end, request_end]() mutable {
      s->serve_handed_off(std::move(conn), head_end, request_end);
    });
  }

  // Closes connections that outstayed a timeout: idle beyond keep-alive,
  // a response the peer has not taken within the write timeout, an answered
  // connection lingering; a request (head and body) not all here within
  // the request deadline (10 s) of its first byte gets 408 first (SPEC §8.10).
  // "10 s", or "1.5 s" for a deadline a test shortened.
  std::string deadline_text() const {
    const auto ms = server.request_deadline_.count();
    std::string text = std::to_string(ms / 1000);
    if (ms % 1000) {
      std::string frac = std::to_string(1000 + ms % 1000).substr(1);
      while (frac.back() == '0') frac.pop_back();
      text += "." + frac;
    }
    return text + " s";
  }

  void sweep(SteadyClock::time_point now) {
    last_sweep = now;
    if (!listening && now >= accept_paused_until) listen(true);
    const auto keep_alive = std::chrono::seconds(server.keep_alive_timeout_sec_);
    const auto write_timeout = std::chrono::seconds(server.write_timeout_sec_);
    std::vector<int> expired, late;
    for (const auto& [fd, c] : conns) {
      if (c->lingering ? now - c->linger_since > kLingerTime
          : c->want_write ? now - c->write_since > write_timeout
          : c->in.empty() ? now - c->idle_since > keep_alive
                          : false)
        expired.push_back(fd);
      else if (!c->lingering && !c->want_write && !c->in.empty() && now - c->request_since > server.request_deadline_)
        late.push_back(fd);
    }
    for (int fd : expired) forget(fd);
    for (int fd : late) {
      auto it = conns.find(fd);
      if (it == conns.end()) continue;
      refuse_request(*it->second, 408, "the request did not arrive within " + deadline_text());
      flush(*it->second, now);
    }
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

bool EventServer::process_buffered_request(Connection& conn, size_t head_end, size_t request_end,
                                           bool& close_after) {
  const std::string_view head = std::string_view(conn.in).substr(0, head_end);
  const std::string_view request = std::string_view(conn.in).substr(0, request_end);
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
  MemoryStream strm(conn, request, conn.out);
  bool connection_closed = false;
  const std::function<void(httplib::Request&)> keep_raw = [this, head](httplib::Request& r) {
    restore_raw_fields(head, r.headers);
    resolve_client_address(r);
    // The loop answered 100 Continue, if it was asked for, before the body
    // came; httplib must not answer it again.
    r.headers.erase("Expect");
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

void EventServer::serve_handed_off(std::shared_ptr<Connection> conn, size_t head_end, size_t request_end) {
  bool close_after = false;
  process_buffered_request(*conn, head_end, request_end, close_after);
  conn->in.erase(0, request_end);
  conn->continue_sent = false;
  if (close_after || stopping_) conn->close_after_write = true;
  give_back(std::move(conn));
}

void EventServer::give_back(std::shared_ptr<Connection> conn) {
  Loop* home = conn->home;
  home->adopt(std::move(conn));
}

}  // namespace plugauth::http

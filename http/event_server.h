// The daemon's connection handling: cpp-httplib's request processing (its
// parser, routes, handlers and response writer, unchanged) behind an epoll
// front end of our own, with a fast lane for the plain /verify GET.
//
// Why: httplib serves each keep-alive connection on a blocking thread of its
// own, so every request costs a thread wake-up and four poll(2) calls before
// the handler runs. /verify is called once per plugin request; deciding it
// takes about 2 µs, and the thread hand-offs around it took ten times that.
//
// How: a few event-loop threads own the listening socket and every
// connection. A request is read on the loop, head and body, until all of it
// is in the buffer (SPEC §8.10: within 10 s of its first byte, else 408; a
// head two parsers could read differently, or over the limits, is refused
// there, http/plain_get.h head_refusal). A gateway request without a body
// (/verify) is then processed right on the loop thread and written back
// non-blocking: a plain GET through the fast lane (http/plain_get.h: a
// strict reader that leaves anything unusual to httplib, the same handler,
// a direct writer), any other through httplib's Server::process_request
// over an in-memory stream. Any other request (pages, /token, bodies) goes,
// whole, to a worker thread, which runs the same process_request over the
// same in-memory stream and gives the connection back to its loop with the
// answer to send. So a worker never reads from or writes to a client: a
// slow or dripping client holds no thread, only its buffer (≤ 64 KiB head
// + 64 KiB body). A connection that must close is half-closed and read out
// for up to 2 s first, so the peer reads the answer (a reset could destroy
// it). 5 s to take a response, 5 s idle.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"
#include "http/address_matcher.h"
#include "http/plain_get.h"

namespace plugauth::http {

class EventServer : public httplib::Server {
 public:
  EventServer();
  ~EventServer() override;

  // Worker threads for connections handed off the event loops; set before run().
  void set_worker_threads(size_t n) { worker_threads_ = n; }

  // The fast lane (http/plain_get.h): a plain `GET <path>` is read and
  // answered on the loop thread without httplib's parser and writer. The
  // handler must do what httplib's pipeline does around the route (the
  // pre-routing handler's headers, exceptions, errors, logging); any
  // request that is not plain goes through httplib. Set before run().
  using FastHandler = std::function<void(const PlainRequest&, PlainResponse&)>;
  void set_fast_lane(std::string path, FastHandler handler) {
    fast_path_ = std::move(path);
    fast_handler_ = std::move(handler);
  }

  // Behind a reverse proxy every peer is the proxy. For a request from one
  // of `cidrs` (trusted_proxies), the client's address as
  // http/address_matcher.h client_address() reads X-Forwarded-For replaces
  // the peer's in Request::remote_addr, so throttling, the audit log and the
  // access log see the client (SPEC §8.9). Not for the fast lane's path
  // (/verify), which judges every forwarded field itself. An unreadable
  // X-Forwarded-For leaves the proxy's address: every such request then
  // shares one throttle budget. Set before run().
  void set_trusted_proxies(const std::vector<std::string>& cidrs) {
    trusted_ = std::make_unique<AddressMatcher>(cidrs);
  }

  // SPEC §8.10: a whole request arrives within this of its first byte, else
  // 408 and the close (default 10 s; tests shorten it). Set before run().
  void set_request_deadline(std::chrono::milliseconds deadline) { request_deadline_ = deadline; }

  // Binds and listens; the error names why.
  Status bind(const std::string& host, int port);
  int bound_port() const { return bound_port_; }
  // Serves until stop(); returns once in-flight requests have finished.
  void run();
  // Safe from any thread, and more than once.
  void stop();

  // Used by the loops and workers (event_server.cpp).
  struct Loop;
  struct Connection;

 private:
  friend struct Loop;
  // On a worker thread: answers the request in conn->in[0, request_end)
  // into conn->out, then gives the connection back to its loop.
  void serve_handed_off(std::shared_ptr<Connection> conn, size_t head_end, size_t request_end);
  // A worker is done with a connection: back to its loop, which waits for
  // its next request or, when it must close (close_after_write), half-closes
  // it and reads out what the peer still sends before closing it.
  void give_back(std::shared_ptr<Connection> conn);
  bool process_buffered_request(Connection& conn, size_t head_end, size_t request_end, bool& close_after);

  // Request::remote_addr := the client's address (set_trusted_proxies).
  void resolve_client_address(httplib::Request& req) const;

  std::unique_ptr<AddressMatcher> trusted_;
  std::chrono::milliseconds request_deadline_{10000};
  size_t worker_threads_ = 64;
  std::string fast_path_;
  FastHandler fast_handler_;
  std::string keep_alive_value_;  // the Keep-Alive header httplib would send
  int listen_fd_ = -1;
  int bound_port_ = -1;
  std::atomic<bool> stopping_{false};
  std::vector<std::unique_ptr<Loop>> loops_;
  std::unique_ptr<httplib::ThreadPool> workers_;
};

}  // namespace plugauth::http

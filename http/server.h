// The HTTP front of the daemon: cpp-httplib's request processing behind an
// epoll front end (http/event_server.h), configured for a long-running
// service behind a proxy, and the routes, each a thin call into auth/.
//
// Limits (SPEC §8.10): bodies ≤ 64 KiB, ≤ 100 headers of ≤ 8 KiB, 5 s read
// and write timeouts, idle keep-alive connections closed after 5 s. Idle
// connections wait on the event loops, not on threads, so any number of
// them never starves a new request; a worker pool (worker_threads) serves
// the connections handed off the loops.
#pragma once

#include <memory>
#include <string>

#include "auth/oauth_context.h"
#include "auth/sessions.h"
#include "auth/signing_keys.h"
#include "auth/token_endpoint.h"
#include "auth/verifier.h"
#include "http/metrics.h"
#include "store/audit_queue.h"
#include "common/clock.h"
#include "config/config.h"
#include "store/store.h"

namespace plugauth {

struct ServerDeps {
  const Config& config;
  store::Store& store;
  SigningKeys& signing_keys;
  Verifier& verifier;
  store::AuditQueue& audit;
  Metrics& metrics;
  const Clock& clock;
  OAuthContext& oauth;
  Sessions& sessions;
  const TokenEndpoint& token_endpoint;
};

class HttpServer {
 public:
  explicit HttpServer(ServerDeps deps);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds the configured listen address. Error names the address and why.
  Status bind();
  int port() const;
  // Serves until stop(); returns once in-flight requests have finished.
  void run();
  // Safe from any thread, and more than once.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace plugauth

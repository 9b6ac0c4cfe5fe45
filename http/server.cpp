#include "http/server.h"

#include <httplib.h>

#include <chrono>
#include <cstdlib>

#include "auth/oauth_error.h"
#include "common/json.h"
#include "common/log.h"
#include "http/cors.h"
#include "http/event_server.h"
#include "http/forms.h"
#include "http/gateway.h"
#include "http/oauth_routes.h"

namespace plugauth {
namespace {

constexpr time_t kIoTimeoutSeconds = 5;
constexpr time_t kKeepAliveTimeoutSeconds = 5;
constexpr size_t kKeepAliveMaxRequests = 100000;

void send_json(httplib::Response& res, int status, const picojson::value& body) {
  res.status = status;
  res.set_content(to_json(body), "application/json");
}

void send_json(httplib::Response& res, int status, const OAuthError& error) {
  res.status = status;
  res.set_content(oauth_error_json(error), "application/json");
}

// On every response: no MIME sniffing, and nothing here is for a cache.
constexpr std::pair<std::string_view, std::string_view> kEveryResponseHeaders[] = {
    {"X-Content-Type-Options", "nosniff"}, {"Cache-Control", "no-store"}};

std::string describe(std::exception_ptr ep) {
  try {
    std::rethrow_exception(ep);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
  }
  return "unknown exception";
}

// Time the request started, for the access log; set by the pre-routing
// handler and read by the logger, which run on the same worker thread.
thread_local std::chrono::steady_clock::time_point request_started;

}  // namespace

struct HttpServer::Impl {
  explicit Impl(ServerDeps d) : deps(d) {}
  ServerDeps deps;
  http::EventServer svr;
  int bound_port = -1;

  void configure();
  void routes();

  // httplib's pipeline around a route, as named steps.
  httplib::Server::HandlerResponse before_route(const httplib::Request& req, httplib::Response& res);
  static void log_request(const httplib::Request& req, const httplib::Response& res);
  static void on_exception(const httplib::Request& req, httplib::Response& res, std::exception_ptr ep);
  static void on_error(const httplib::Request& req, httplib::Response& res);
};

void HttpServer::Impl::configure() {
  svr.set_worker_threads(static_cast<size_t>(deps.config.worker_threads));
  svr.set_trusted_proxies(deps.config.trusted_proxies);
  svr.set_payload_max_length(http::kMaxBodyBytes);
  svr.set_read_timeout(kIoTimeoutSeconds, 0);
  svr.set_write_timeout(kIoTimeoutSeconds, 0);
  svr.set_keep_alive_timeout(kKeepAliveTimeoutSeconds);
  svr.set_keep_alive_max_count(kKeepAliveMaxRequests);
  // Tests only (serve warns when it is set): the 10 s deadline, shortened.
  if (const char* ms = std::getenv("PLUGAUTH_TEST_REQUEST_DEADLINE_MS"); ms && std::atoi(ms) > 0)
    svr.set_request_deadline(std::chrono::milliseconds(std::atoi(ms)));

  svr.set_pre_routing_handler(
      [this](const httplib::Request& req, httplib::Response& res) { return before_route(req, res); });
  svr.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    if (!is_gateway_path(req.path)) deps.metrics.record_http(req.path, res.status);
    log_request(req, res);
  });
  svr.set_exception_handler([](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
    on_exception(req, res, ep);
  });
  svr.set_error_handler([](const httplib::Request& req, httplib::Response& res) { on_error(req, res); });
}

httplib::Server::HandlerResponse HttpServer::Impl::before_route(const httplib::Request& req,
                                                                httplib::Response& res) {
  request_started = std::chrono::steady_clock::now();
  // Constants, valid by construction: straight into the header map
  // rather than through set_header's field checks, on every request.
  for (const auto& [name, value] : kEveryResponseHeaders) res.headers.emplace(name, value);
  // A preflight's body, if it had one, was read whole by the event loop with
  // its head, so it is skipped here, never read as the next request.
  if (http::apply_cors(req, res, deps.config)) return httplib::Server::HandlerResponse::Handled;
  return httplib::Server::HandlerResponse::Unhandled;
}

// One line per request: method, path without its query string, status,
// duration, client address. Never headers, bodies or query strings.
// Not for the gateway endpoints (/verify, /verify/batch, /metrics): a proxy
// calls /verify once per plugin request, tens of thousands a second, which
// would cost a write(2) each and trip journald's rate limit (10,000 lines
// per 30 s by default), dropping the lines that matter. Their outcomes are
// counted in /metrics and every failure is in the audit log with its reason.
void HttpServer::Impl::log_request(const httplib::Request& req, const httplib::Response& res) {
  if (is_gateway_path(req.path)) {
    request_started = {};
    return;
  }
  // A request refused while parsing (e.g. too many headers) never reached
  // the pre-routing handler: it has no start time.
  std::string duration = "-";
  if (request_started != std::chrono::steady_clock::time_point{}) {
    duration = std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(
                                  std::chrono::steady_clock::now() - request_started)
                                  .count()) +
               "us";
  }
  request_started = {};
  std::string path = req.path.substr(0, std::min<size_t>(req.path.size(), 256));
  log_info(req.method + " " + path + " " + std::to_string(res.status) + " " + duration + " " +
           req.remote_addr);
}

// An exception is a bug or a database failure: the client learns nothing
// of it but a generic 500; the operator gets the detail.
void HttpServer::Impl::on_exception(const httplib::Request& req, httplib::Response& res,
                                    std::exception_ptr ep) {
  log_error("internal error on " + req.method + " " + req.path + ": " + describe(ep));
  send_json(res, 500, OAuthError{"server_error", "internal error", 0});
}

void HttpServer::Impl::on_error(const httplib::Request&, httplib::Response& res) {
  if (!res.body.empty()) return;
  switch (res.status) {
    case 404:
      send_json(res, 404, OAuthError{"not_found", "no such endpoint", 0});
      break;
    case 405:
      send_json(res, 405, OAuthError{"invalid_request", "method not allowed", 0});
      break;
    case 413:
      send_json(res, 413, OAuthError{"invalid_request", "request body larger than 64 KiB", 0});
      break;
    case 414:
      send_json(res, 414, OAuthError{"invalid_request", "request URI too long", 0});
      break;
    case 431:
      send_json(res, 431, OAuthError{"invalid_request", "request headers too large", 0});
      break;
    default:
      if (res.status >= 400 && res.status < 500)
        send_json(res, res.status, OAuthError{"invalid_request", "malformed request", 0});
      break;
  }
}

void HttpServer::Impl::routes() {
  // The gateway first: httplib tries routes in order, and /verify is the
  // endpoint called on every plugin request.
  auto verify = register_gateway_routes(
      svr, GatewayDeps{deps.config, deps.verifier, deps.audit, deps.metrics, deps.clock, deps.oauth.throttle,
                       &deps.signing_keys});
  // The same /verify, for a plain GET read by the event loop itself
  // (http/plain_get.h), with what the steps around a route would add: the
  // constant headers of before_route (CORS never applies to /verify), a
  // 500 for an exception, no access-log line (a gateway path).
  svr.set_fast_lane("/verify", [verify](const http::PlainRequest& req, http::PlainResponse& res) {
    for (const auto& [name, value] : kEveryResponseHeaders) res.set_header(name, std::string(value));
    try {
      verify(req, res);
    } catch (...) {
      const std::size_t constant_headers = std::size(kEveryResponseHeaders);
      res.headers.resize(constant_headers);
      log_error("internal error on " + std::string(req.method) + " " + std::string(req.path) + ": " +
                describe(std::current_exception()));
      res.status = 500;
      res.set_content(oauth_error_json(oauth_errors::kServerError), "application/json");
    }
  });

  svr.Get("/healthz", [this](const httplib::Request&, httplib::Response& res) {
    picojson::object o;
    const bool ok = deps.store.ping();
    o["status"] = picojson::value(ok ? "ok" : "unavailable");
    send_json(res, ok ? 200 : 503, picojson::value(std::move(o)));
  });

  svr.Get("/.well-known/jwks.json", [this](const httplib::Request&, httplib::Response& res) {
    send_json(res, 200, deps.signing_keys.jwks());
    // Public keys: cacheable for kJwksMaxAge; a new key is published
    // kPublishLead (longer) before it signs (auth/signing_keys.h).
    http::set_cache_control(res, "public, max-age=" + std::to_string(kJwksMaxAge));
  });

  register_oauth_routes(svr, deps.oauth, deps.sessions, deps.token_endpoint);
  register_account_routes(svr, deps.oauth, deps.sessions);
  register_mcp_routes(svr, deps.oauth);
}

HttpServer::HttpServer(ServerDeps deps) : impl_(std::make_unique<Impl>(deps)) {
  impl_->configure();
  impl_->routes();
}

HttpServer::~HttpServer() = default;

Status HttpServer::bind() {
  const auto& c = impl_->deps.config;
  if (auto st = impl_->svr.bind(c.listen_host(), c.listen_port()); !st) {
    return make_error("cannot listen on " + c.listen + ": " + st.error().message +
                      " (the port is in use, or the host is not an address of this machine)");
  }
  impl_->bound_port = impl_->svr.bound_port();
  return ok_status();
}

int HttpServer::port() const {
  return impl_->bound_port;
}

void HttpServer::run() {
  impl_->svr.run();
}

void HttpServer::stop() {
  impl_->svr.stop();
}

}  // namespace plugauth

#include "cli/serve.h"

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <condition_variable>
#include <memory>
#include <iostream>
#include <mutex>
#include <thread>

#include "cli/app.h"
#include "common/log.h"
#include "config/duration.h"
#include "http/metadata_fetcher.h"
#include "http/notify.h"
#include "http/server.h"

namespace plugauth::cli {
namespace {

// The daemon's background work, every kPollInterval: notice what CLI
// commands changed in the shared database (PRAGMA data_version moves when
// another connection commits) and drop the caches that depend on it; write
// the queued audit events and key last-use times; now and then rotate the
// signing key when due and enforce audit retention.
class Housekeeper {
 public:
  // A metadata-document client nobody has fetched or used for a day and
  // that holds no grant is deleted; it comes back, fetched anew, with the
  // next /authorize that names it.
  static constexpr int64_t kUnusedMetadataClientRetention = 86400;
  static constexpr auto kPollInterval = std::chrono::milliseconds(200);
  static constexpr auto kSlowInterval = std::chrono::minutes(10);

  Housekeeper(App& app, Verifier& verifier, store::AuditQueue& audit)
      : app_(app), verifier_(verifier), audit_(audit), thread_([this] { loop(); }) {}
  ~Housekeeper() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
    flush();  // nothing queued is lost on a clean stop
  }

 private:
  void flush() {
    try {
      audit_.flush(*app_.store);
      app_.store->touch_api_keys(verifier_.take_key_usage());
    } catch (const std::exception& e) {
      log_error(std::string("writing audit events failed: ") + e.what());
    }
  }

  void slow_work() {
    auto kid = app_.signing_keys->ensure_current();
    if (!kid) log_error("signing key rotation failed: " + kid.error().message);
    else if (!kid->empty()) {
      log_info("rotated signing key; new kid " + *kid);
      audit_.push({app_.clock.now(), "signing_key_rotated", "", "", *kid, "", 0, "daemon", "scheduled rotation"});
    }
    app_.store->delete_audit_events_before(app_.clock.now() - app_.config.audit_retention);
    app_.store->delete_expired_oauth_rows(app_.clock.now());
    // Every distinct client_id URL a stranger sends, and every /register
    // call, makes a client row: those nobody uses go (SPEC §3 /register).
    const int removed = app_.store->delete_unused_clients(app_.clock.now(), kUnusedMetadataClientRetention);
    if (removed > 0) log_info("removed " + std::to_string(removed) + " unused self-registered client(s)");
  }

  void loop() {
    int64_t seen = app_.store->data_version();
    auto next_slow = std::chrono::steady_clock::now();
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, kPollInterval, [this] { return stopping_; })) {
      try {
        int64_t version = app_.store->data_version();
        if (version != seen) {
          seen = version;
          verifier_.invalidate();
          if (auto st = app_.signing_keys->reload(); !st) log_error(st.error().message);
        }
        flush();
        if (std::chrono::steady_clock::now() >= next_slow) {
          next_slow = std::chrono::steady_clock::now() + kSlowInterval;
          slow_work();
        }
      } catch (const std::exception& e) {
        log_error(std::string("background work failed: ") + e.what());
      }
    }
  }

  App& app_;
  Verifier& verifier_;
  store::AuditQueue& audit_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace

int serve(Invocation& inv) {
  // Block the stop signals in every thread; one thread takes them with
  // sigwait, so no handler ever runs in the middle of a request.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGUSR1);  // internal: wake the signal thread
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  std::map<std::string, std::string> flags;
  if (inv.has("listen")) {
    // A malformed --listen is the command line's fault: a usage error, before
    // any installation is opened.
    Config probe;
    probe.listen = inv.get("listen");
    if (!probe.listen_is_host_port())
      return usage_error(inv, "--listen takes HOST:PORT, e.g. 127.0.0.1:7070 or [::1]:7070, not \"" + probe.listen +
                                  "\"");
    flags["listen"] = inv.get("listen");
  }
  if (inv.has("issuer")) flags["issuer"] = inv.get("issuer");
  auto opened = open_app(inv, flags, DataDirectory::Create);
  if (!opened) return fail(inv, opened.error().message);
  App& app = *opened.value();
  for (const auto& n : app.notices) log_info(n);
  record_served_settings(*app.store, app.config, app.clock.now());
  if (auto kid = app.signing_keys->ensure_current(); !kid) {
    return fail(inv, kid.error().message);
  } else if (!kid->empty()) {
    log_info("created " + app.config.token_alg + " signing key, kid " + *kid);
  }
  for (const auto& w : config_warnings(app.config)) log_warn(w);
  if (app.clock.shifted())
    log_warn("PLUGAUTH_TEST_CLOCK_OFFSET_FILE is set: the clock is shifted for testing; never do this in production");
  if (std::getenv("PLUGAUTH_TEST_REQUEST_DEADLINE_MS"))
    log_warn("PLUGAUTH_TEST_REQUEST_DEADLINE_MS is set: the request deadline is changed for testing; never do this "
             "in production");

  Verifier verifier(*app.store, *app.crypto, app.clock, app.config, *app.signing_keys);
  store::AuditQueue audit;
  Metrics metrics;
  audit.set_observer([&metrics](const store::AuditEvent& e) { metrics.observe(e); });
  FailureThrottle throttle(app.clock);
  MetadataFetcher metadata_fetcher(app.config, app.clock);
  // SPEC §8.9: one argon2id check (64 MiB) per core at once, 64 more waiting.
  PasswordGate password_gate(std::max(2u, std::thread::hardware_concurrency()), 64);
  OAuthContext oauth{app.config, *app.store, *app.crypto, *app.signing_keys, app.clock, app.random, verifier, throttle,
                     audit, [&metadata_fetcher](const std::string& url) { return metadata_fetcher.fetch(url); },
                     &password_gate};
  Sessions sessions(*app.store, *app.crypto, app.clock, app.random);
  TokenEndpoint token_endpoint;
  HttpServer server(ServerDeps{app.config, *app.store, *app.signing_keys, verifier, audit, metrics, app.clock, oauth,
                               sessions, token_endpoint});
  if (auto st = server.bind(); !st) return fail(inv, st.error().message);

  log_info("data directory " + app.config.data + "; database " + app.store->path() + " (schema v" +
           std::to_string(app.store->schema_version()) + "); master key " + app.master_key_path);
  if (!app.config.config_file.empty()) log_info("config " + app.config.config_file);
  log_info("issuer " + app.config.issuer + "; listening on " + app.config.listen + "; access tokens " +
           app.config.token_alg + ", " + format_duration(app.config.access_token_ttl));
  log_info("next: `plugauth client add --name my-gpt --chatgpt-callback g-…`, `plugauth user add NAME`, "
           "`plugauth manifest --type oauth --client ID` (add --data " + app.config.data +
           " when running from another directory)");

  auto housekeeper = std::make_unique<Housekeeper>(app, verifier, audit);
  std::thread signal_thread([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    if (sig == SIGUSR1) return;
    log_info(std::string("received ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") + "; stopping");
    sd_notify("STOPPING=1");
    server.stop();
  });

  if (!sd_notify("READY=1")) log_warn("could not notify systemd at $NOTIFY_SOCKET");
  server.run();  // returns after stop() once in-flight requests are done

  pthread_kill(signal_thread.native_handle(), SIGUSR1);
  signal_thread.join();
  housekeeper.reset();
  opened.value().reset();  // flushes and closes the database
  log_info("stopped");
  return kExitOk;
}

}  // namespace plugauth::cli

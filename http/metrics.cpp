#include "http/metrics.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>

namespace plugauth {
namespace {

constexpr const char* kTypeNames[Metrics::kTypes] = {"oauth", "api_key", "service", "client", "none"};
constexpr const char* kOutcomeNames[Metrics::kOutcomes] = {"ok", "no_credentials", "invalid_token",
                                                           "insufficient_scope"};

size_t outcome_index(VerifyResult r) {
  switch (r) {
    case VerifyResult::Ok: return 0;
    case VerifyResult::NoCredentials: return 1;
    case VerifyResult::InvalidToken: return 2;
    case VerifyResult::InsufficientScope: return 3;
  }
  return 2;
}

uint64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
}

struct Family {
  const char* name;
  const char* help;
};
constexpr Family kLabelled[] = {
    {"plugauth_token_requests_total", "Requests at /token that reached a grant, by grant type and result."},
    {"plugauth_logins_total", "Sign-in attempts (the sign-in page and /account) by result."},
    {"plugauth_throttled_total", "Requests refused by the failure throttle or the registration limit, by endpoint."},
    {"plugauth_registrations_total", "Dynamic client registrations by result."},
    {"plugauth_http_requests_total",
     "Requests answered outside /verify's fast lane, by route (plugauth's paths, else other) and status."},
};

// plugauth's own paths; anything else counts as "other".
constexpr std::string_view kRoutes[] = {
    "/authorize",  "/token",   "/register", "/revoke", "/introspect", "/userinfo", "/account", "/jwks.json",
    "/healthz",    "/verify",  "/verify/batch", "/metrics", "/.well-known/oauth-authorization-server",
    "/.well-known/openid-configuration", "/.well-known/oauth-protected-resource", "/.well-known/ai-plugin.json",
    "/openapi.yaml", "/"};

std::string_view route_of(std::string_view path) {
  for (std::string_view r : kRoutes)
    if (path == r || (r.size() > 1 && path.size() > r.size() && path.substr(0, r.size()) == r && path[r.size()] == '/'))
      return r;
  return "other";
}

// "grant=authorization_code with a refresh token" -> "authorization_code".
std::string grant_of(const std::string& detail) {
  if (detail.rfind("grant=", 0) != 0) return "unknown";
  const size_t end = detail.find(' ');
  return detail.substr(6, end == std::string::npos ? std::string::npos : end - 6);
}

}  // namespace

Metrics::Metrics() : started_(std::chrono::steady_clock::now()) {}

void Metrics::record_verify(const Identity* identity, VerifyResult result, std::chrono::nanoseconds latency) {
  size_t type = identity ? static_cast<size_t>(identity->type) : kTypes - 1;
  verify_[type][outcome_index(result)].fetch_add(1, std::memory_order_relaxed);
  const double seconds = std::chrono::duration<double>(latency).count();
  size_t bucket = 0;
  while (bucket < kLatencyBuckets.size() && seconds > kLatencyBuckets[bucket]) ++bucket;
  latency_buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  latency_count_.fetch_add(1, std::memory_order_relaxed);
  latency_sum_ns_.fetch_add(static_cast<uint64_t>(latency.count()), std::memory_order_relaxed);
}

void Metrics::bump(const char* family, std::string labels, uint64_t by) {
  std::lock_guard lock(labelled_mu_);
  labelled_[family][std::move(labels)] += by;
}

void Metrics::observe(const store::AuditEvent& e) {
  const uint64_t n = e.count > 0 ? static_cast<uint64_t>(e.count) : 1;
  const std::string& a = e.action;
  if (a == "token_issued" || a == "token_refused") {
    bump("plugauth_token_requests_total",
         "grant=\"" + grant_of(e.detail) + "\",result=\"" + (a == "token_issued" ? "ok" : "refused") + "\"", n);
  } else if (a == "login" || a == "login_failed" || a == "login_locked" || a == "login_throttled") {
    const char* result = a == "login"          ? "ok"
                         : a == "login_failed" ? "failed"
                         : a == "login_locked" ? "locked"
                         : e.status == 503     ? "busy"
                                               : "throttled";
    bump("plugauth_logins_total", std::string("result=\"") + result + "\"", n);
    if (a == "login_throttled") bump("plugauth_throttled_total", "endpoint=\"" + std::string(route_of(e.api_path)) + "\"", n);
  } else if (a == "client_auth_throttled") {
    bump("plugauth_throttled_total", "endpoint=\"/token\"", n);
  } else if (a == "client_registered" || a == "client_registration_refused") {
    const char* result = a == "client_registered" ? "ok" : e.status == 429 ? "throttled" : "refused";
    bump("plugauth_registrations_total", std::string("result=\"") + result + "\"", n);
    if (e.status == 429) bump("plugauth_throttled_total", "endpoint=\"/register\"", n);
  }
}

void Metrics::record_http(std::string_view path, int status) {
  bump("plugauth_http_requests_total",
       "route=\"" + std::string(route_of(path)) + "\",status=\"" + std::to_string(status) + "\"");
}

std::string Metrics::render(const Gauges& g) const {
  std::string out;
  char line[512];
  auto add = [&](const char* fmt, auto... args) {
    std::snprintf(line, sizeof line, fmt, args...);
    out += line;
  };
  out += "# HELP plugauth_verify_total /verify decisions by credential type and outcome.\n"
         "# TYPE plugauth_verify_total counter\n";
  for (size_t t = 0; t < kTypes; ++t)
    for (size_t o = 0; o < kOutcomes; ++o)
      add("plugauth_verify_total{type=\"%s\",outcome=\"%s\"} %llu\n", kTypeNames[t], kOutcomeNames[o],
          static_cast<unsigned long long>(verify_[t][o].load(std::memory_order_relaxed)));

  out += "# HELP plugauth_verify_duration_seconds Time spent deciding /verify requests.\n"
         "# TYPE plugauth_verify_duration_seconds histogram\n";
  uint64_t cumulative = 0;
  for (size_t b = 0; b < kLatencyBuckets.size(); ++b) {
    cumulative += latency_buckets_[b].load(std::memory_order_relaxed);
    add("plugauth_verify_duration_seconds_bucket{le=\"%g\"} %llu\n", kLatencyBuckets[b],
        static_cast<unsigned long long>(cumulative));
  }
  cumulative += latency_buckets_[kLatencyBuckets.size()].load(std::memory_order_relaxed);
  add("plugauth_verify_duration_seconds_bucket{le=\"+Inf\"} %llu\n", static_cast<unsigned long long>(cumulative));
  add("plugauth_verify_duration_seconds_sum %.9f\n",
      static_cast<double>(latency_sum_ns_.load(std::memory_order_relaxed)) / 1e9);
  add("plugauth_verify_duration_seconds_count %llu\n",
      static_cast<unsigned long long>(latency_count_.load(std::memory_order_relaxed)));

  add("# HELP plugauth_verify_cache_hits_total Verified-credential cache hits.\n"
      "# TYPE plugauth_verify_cache_hits_total counter\nplugauth_verify_cache_hits_total %llu\n",
      static_cast<unsigned long long>(g.cache_hits));
  add("# HELP plugauth_verify_cache_misses_total Verified-credential cache misses.\n"
      "# TYPE plugauth_verify_cache_misses_total counter\nplugauth_verify_cache_misses_total %llu\n",
      static_cast<unsigned long long>(g.cache_misses));
  add("# HELP plugauth_verify_cache_evictions_total Cached credentials evicted to bound the cache (least recently "
      "used first; refusals only evict refusals).\n"
      "# TYPE plugauth_verify_cache_evictions_total counter\nplugauth_verify_cache_evictions_total %llu\n",
      static_cast<unsigned long long>(g.cache_evictions));
  add("# HELP plugauth_audit_queue_depth Audit events waiting to be written.\n"
      "# TYPE plugauth_audit_queue_depth gauge\nplugauth_audit_queue_depth %zu\n",
      g.audit_queue_depth);
  // SPEC §9 names this family; a full queue waits instead of dropping
  // (store/audit_queue.h), so no event can be counted here.
  out += "# HELP plugauth_audit_dropped_total Audit events lost. None can be: a full queue makes the request wait "
         "for the next write (plugauth_audit_queue_full_waits_total).\n"
         "# TYPE plugauth_audit_dropped_total counter\nplugauth_audit_dropped_total 0\n";
  add("# HELP plugauth_audit_queue_full_waits_total Requests that waited for the audit queue to have room.\n"
      "# TYPE plugauth_audit_queue_full_waits_total counter\nplugauth_audit_queue_full_waits_total %llu\n",
      static_cast<unsigned long long>(g.audit_full_waits));
  add("# HELP plugauth_audit_coalesced_total Audit events counted into an identical event of the same second.\n"
      "# TYPE plugauth_audit_coalesced_total counter\nplugauth_audit_coalesced_total %llu\n",
      static_cast<unsigned long long>(g.audit_coalesced));
  add("# HELP plugauth_sign_in_locks_total Accounts whose sign-in was locked after 100 consecutive wrong "
      "authenticator codes sent with the right password (until `plugauth user unlock` or `user passwd`).\n"
      "# TYPE plugauth_sign_in_locks_total counter\nplugauth_sign_in_locks_total %llu\n",
      static_cast<unsigned long long>(g.sign_in_locks));
  {
    std::lock_guard lock(labelled_mu_);
    for (const Family& f : kLabelled) {
      out += std::string("# HELP ") + f.name + " " + f.help + "\n# TYPE " + f.name + " counter\n";
      auto it = labelled_.find(f.name);
      if (it == labelled_.end()) continue;
      for (const auto& [labels, count] : it->second)
        out += std::string(f.name) + "{" + labels + "} " + std::to_string(count) + "\n";
    }
  }
  if (g.signing_key_age)
    add("# HELP plugauth_signing_key_age_seconds Seconds since the key that signs now began signing.\n"
        "# TYPE plugauth_signing_key_age_seconds gauge\nplugauth_signing_key_age_seconds %lld\n",
        static_cast<long long>(*g.signing_key_age));
  add("# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
      "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes %llu\n",
      static_cast<unsigned long long>(resident_bytes()));
  add("# HELP plugauth_uptime_seconds Seconds since the daemon started.\n"
      "# TYPE plugauth_uptime_seconds gauge\nplugauth_uptime_seconds %.3f\n",
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count());
  return out;
}

}  // namespace plugauth

// /verify, /verify/batch and /metrics: the HTTP face of auth/verifier.h.
#pragma once

#include <string_view>

#include "auth/gateway_decision.h"
#include "auth/throttle.h"
#include "auth/verifier.h"
#include "config/config.h"
#include "http/address_matcher.h"
#include "http/event_server.h"
#include "http/metrics.h"
#include "store/audit_queue.h"

namespace plugauth {

struct GatewayDeps {
  const Config& config;
  Verifier& verifier;
  store::AuditQueue& audit;
  Metrics& metrics;
  const Clock& clock;
  const FailureThrottle& throttle;  // for /metrics: sign-in locks
  const SigningKeys* signing_keys = nullptr;  // for /metrics: the signing key's age
};

// Returns the /verify handler, for the event loop's fast lane.
http::EventServer::FastHandler register_gateway_routes(httplib::Server& server, GatewayDeps deps);

// /verify, /verify/batch and /metrics: the endpoints a proxy or a scraper
// calls all the time.
bool is_gateway_path(std::string_view path);

}  // namespace plugauth

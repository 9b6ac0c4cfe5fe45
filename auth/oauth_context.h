// What the OAuth endpoints share: the settings they read and the services
// they call. Built once by `serve`; every member outlives the server.
#pragma once

#include <functional>
#include <string>

#include "auth/crypto.h"
#include "auth/passwords.h"
#include "auth/signing_keys.h"
#include "auth/throttle.h"
#include "auth/verifier.h"
#include "common/clock.h"
#include "config/config.h"
#include "store/audit_queue.h"
#include "store/store.h"

namespace plugauth {

struct OAuthContext {
  const Config& config;
  store::Store& store;
  const CryptoKeys& crypto;
  SigningKeys& signing_keys;
  const Clock& clock;
  Random& random;
  Verifier& verifier;  // its caches are dropped after every revocation here
  FailureThrottle& throttle;
  store::AuditQueue& audit;
  // Fetches Client ID Metadata Documents (https client_ids); may be empty.
  std::function<Result<std::string>(const std::string& url)> fetch_client_metadata;
  // Bounds the password checks that run at once (auth/passwords.h); none
  // when null (the CLI, unit tests).
  PasswordGate* password_gate = nullptr;
};

}  // namespace plugauth

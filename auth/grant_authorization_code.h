// grant_type=authorization_code: the checks a presented code goes through
// before anything is issued or revoked, as one pure function so their order
// has a unit test (tests/unit/code_grant_test.cpp).
#pragma once

#include <optional>
#include <string>

#include "auth/oauth_error.h"
#include "store/store.h"

namespace plugauth {

struct CodeGrantDecision {
  // Set: the request is refused with it. Unset: the code may be redeemed.
  std::optional<OAuthError> refusal;
  // The refusal is a replay by the code's own client: revoke everything
  // issued from the code (RFC 6749 §4.1.2). Never set for any other refusal.
  bool revoke_grant = false;
};

// Decides a code exchange for `client` (already authenticated, or a public
// client identified by its id). In order (SPEC §8.2): the code's client,
// its redirect_uri, PKCE (RFC 7636 §4.6), then single use, then expiry — so
// a used code that leaked (history, Referer, access logs) and is shown by
// any other client, or without its verifier, is invalid_grant and changes
// nothing; only its own client's second use, with the verifier, revokes.
CodeGrantDecision check_authorization_code(const store::AuthorizationCodeRecord& code,
                                           const store::ClientRecord& client, const std::string& redirect_uri,
                                           const std::string& code_verifier, int64_t now);

}  // namespace plugauth

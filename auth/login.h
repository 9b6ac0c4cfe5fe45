// Password sign-in for /authorize and /account, throttled per account and
// per IP (SPEC §8.9) and audited. Unknown user names cost the same as wrong
// passwords, so the answer's timing does not reveal which names exist. An
// account with two-step sign-in also needs its current authenticator code;
// a wrong or missing code is a failed sign-in like a wrong password, and the
// answer does not say which of the three was wrong.
#pragma once

#include <string>

#include "auth/oauth_context.h"
#include "common/result.h"

namespace plugauth {

struct LoginFailure {
  int status = 401;          // 401 wrong credentials, 429 throttled
  std::string message;       // for the page
  int64_t retry_after = 0;   // seconds, with 429
};

Result<store::UserRecord, LoginFailure> check_login(OAuthContext& ctx, const std::string& username,
                                                    const std::string& password, const std::string& totp_code,
                                                    const std::string& client_ip, const std::string& path);

}  // namespace plugauth

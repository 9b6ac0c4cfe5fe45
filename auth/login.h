// Password sign-in for /authorize and /account, throttled per account and
// per IP (SPEC §8.9) and audited. Unknown user names cost the same as wrong
// passwords, so the answer's timing does not reveal which names exist. An
// account with two-step sign-in also needs its current authenticator code;
// a wrong or missing code is a failed sign-in like a wrong password, and the
// answer does not say which of the three was wrong.
//
// One budget: every failed sign-in and every wrong authenticator code,
// wherever it is typed (sign-in, /account: both go through check_login),
// counts against the same per-account and per-address keys of the
// throttle, checked and counted in one step (auth/throttle.h). The
// per-account key is used only for a name that exists: made-up names count
// against their address alone. Wrong codes sent with
// the right password also count, persistently, towards a lock of the
// account's sign-in (kWrongCodeLockLimit) that only `user unlock` or
// `user passwd` lifts.
#pragma once

#include <optional>
#include <string>

#include "auth/oauth_context.h"
#include "common/result.h"

namespace plugauth {

// NIST SP 800-63B §5.2.2: at most 100 consecutive failed attempts at an
// authenticator. Only someone who has the password can send these, so a
// stranger can never lock an account this way.
constexpr int kWrongCodeLockLimit = 100;

struct LoginFailure {
  int status = 401;          // 401 wrong credentials, 429 throttled or locked, 503 too many at once
  std::string message;       // for the page
  int64_t retry_after = 0;   // seconds, with 429 (0: locked until an operator acts)
};

Result<store::UserRecord, LoginFailure> check_login(OAuthContext& ctx, const std::string& username,
                                                    const std::string& password, const std::string& totp_code,
                                                    const std::string& client_ip, const std::string& path);

}  // namespace plugauth

#include "auth/login.h"

#include "auth/passwords.h"
#include "auth/two_step.h"

namespace plugauth {

Result<store::UserRecord, LoginFailure> check_login(OAuthContext& ctx, const std::string& username,
                                                    const std::string& password, const std::string& totp_code,
                                                    const std::string& client_ip, const std::string& path) {
  const std::string user_key = "user:" + username.substr(0, 64);
  const std::string ip_key = "ip:" + client_ip;
  const int64_t now = ctx.clock.now();
  auto user = username.empty() || username.size() > 64 ? std::nullopt : ctx.store.find_user_by_name(username);
  if (user && user->unlocked_at > 0) ctx.throttle.forget_failures_before(user_key, user->unlocked_at);
  auto wait = ctx.throttle.blocked(user_key, kAccountFailureLimit);
  if (!wait) wait = ctx.throttle.blocked(ip_key, kIpFailureLimit);
  if (wait) {
    ctx.audit.push({now, "login_throttled", "", "", "", path, 429, client_ip, "user=" + username.substr(0, 64)});
    return LoginFailure{429, "Too many failed sign-in attempts. Try again in " + std::to_string(*wait) + " seconds.",
                        *wait};
  }
  bool ok = false;
  if (user) ok = verify_password(password, user->password_hash);
  else burn_password_check(password);
  const bool code_ok = !ok || !user->mfa || check_totp(ctx.crypto, ctx.store, ctx.clock, user->id, totp_code);
  if (!ok || !code_ok) {
    ctx.throttle.record_failure(user_key, kAccountFailureLimit);
    ctx.throttle.record_failure(ip_key, kIpFailureLimit);
    ctx.audit.push({now, "login_failed", user ? user->id : "", "", "", path, 401, client_ip,
                    "user=" + username.substr(0, 64) + (ok ? " (wrong or reused authenticator code)" : "")});
    // One message for every cause, so it tells nothing about the account.
    return LoginFailure{401, "The user name, password or authenticator code is wrong.", 0};
  }
  ctx.throttle.record_success(user_key);
  ctx.audit.push({now, "login", user->id, "", "", path, 200, client_ip, user->mfa ? "with authenticator code" : ""});
  return *user;
}

}  // namespace plugauth

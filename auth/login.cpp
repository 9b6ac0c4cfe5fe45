#include "auth/login.h"

#include "auth/passwords.h"
#include "auth/two_step.h"

namespace plugauth {
namespace {

// The throttle's keys for one account and one address: the only place they
// are spelled, so every path counts in the same budget (SPEC §8.9).
std::string account_key(const std::string& username) { return "user:" + username.substr(0, 64); }
std::string address_key(const std::string& client_ip) { return "ip:" + client_ip; }

void count_failure(OAuthContext& ctx, const std::string& username, const std::string& client_ip) {
  ctx.throttle.record_failure(account_key(username), kAccountFailureLimit);
  ctx.throttle.record_failure(address_key(client_ip), kIpFailureLimit);
}

// A wrong code that came with the right password: one more towards the lock.
void count_towards_lock(OAuthContext& ctx, const store::UserRecord& user, const std::string& client_ip,
                        const std::string& path) {
  const int64_t now = ctx.clock.now();
  if (ctx.store.count_wrong_code(user.id, now, kWrongCodeLockLimit) != kWrongCodeLockLimit) return;
  ctx.throttle.count_sign_in_lock();
  ctx.audit.push({now, "account_locked", user.id, "", "", path, 429, client_ip,
                  "user=" + user.name + " after " + std::to_string(kWrongCodeLockLimit) +
                      " consecutive wrong authenticator codes with the right password; `plugauth user unlock " +
                      user.name + "` or `user passwd` lifts it"});
}

}  // namespace

std::optional<int64_t> sign_in_wait(OAuthContext& ctx, const std::string& username,
                                    const std::optional<store::UserRecord>& user, const std::string& client_ip) {
  const std::string user_key = account_key(username);
  if (user && user->unlocked_at > 0) ctx.throttle.forget_failures_before(user_key, user->unlocked_at);
  auto wait = ctx.throttle.blocked(user_key, kAccountFailureLimit);
  if (!wait) wait = ctx.throttle.blocked(address_key(client_ip), kIpFailureLimit);
  return wait;
}

void record_wrong_code(OAuthContext& ctx, const store::UserRecord& user, const std::string& client_ip,
                       const std::string& path, bool with_right_password) {
  count_failure(ctx, user.name, client_ip);
  if (with_right_password) count_towards_lock(ctx, user, client_ip, path);
}

Result<store::UserRecord, LoginFailure> check_login(OAuthContext& ctx, const std::string& username,
                                                    const std::string& password, const std::string& totp_code,
                                                    const std::string& client_ip, const std::string& path) {
  const int64_t now = ctx.clock.now();
  auto user = username.empty() || username.size() > 64 ? std::nullopt : ctx.store.find_user_by_name(username);
  if (auto wait = sign_in_wait(ctx, username, user, client_ip)) {
    ctx.audit.push({now, "login_throttled", "", "", "", path, 429, client_ip, "user=" + username.substr(0, 64)});
    return LoginFailure{429, "Too many failed sign-in attempts. Try again in " + std::to_string(*wait) + " seconds.",
                        *wait};
  }
  bool ok = false;
  if (user) ok = verify_password(password, user->password_hash);
  else burn_password_check(password);
  // Told only to whoever has the password: to anyone else a locked account
  // answers like any other, so the lock says nothing about it to strangers.
  if (ok && user->code_locked_at) {
    ctx.audit.push({now, "login_locked", user->id, "", "", path, 429, client_ip,
                    "user=" + user->name + " refused: locked after wrong authenticator codes"});
    return LoginFailure{429,
                        "This account's sign-in is locked after too many wrong authenticator codes. "
                        "Ask the administrator to unlock it.",
                        0};
  }
  const bool code_ok = !ok || !user->mfa || check_totp(ctx.crypto, ctx.store, ctx.clock, user->id, totp_code);
  if (!ok || !code_ok) {
    count_failure(ctx, username, client_ip);
    if (ok) count_towards_lock(ctx, *user, client_ip, path);
    ctx.audit.push({now, "login_failed", user ? user->id : "", "", "", path, 401, client_ip,
                    "user=" + username.substr(0, 64) + (ok ? " (wrong or reused authenticator code)" : "")});
    // One message for every cause, so it tells nothing about the account.
    return LoginFailure{401, "The user name, password or authenticator code is wrong.", 0};
  }
  ctx.throttle.record_success(account_key(username));
  if (user->wrong_codes != 0) ctx.store.clear_wrong_codes(user->id);
  ctx.audit.push({now, "login", user->id, "", "", path, 200, client_ip, user->mfa ? "with authenticator code" : ""});
  return *user;
}

}  // namespace plugauth

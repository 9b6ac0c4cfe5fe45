#include "auth/login.h"

#include "auth/passwords.h"
#include "auth/two_step.h"

namespace plugauth {
namespace {

// The throttle's keys for one account and one address: the only place they
// are spelled, so every path counts in the same budget (SPEC §8.9). An
// account key only for an account that exists.
std::vector<ThrottleKey> sign_in_keys(OAuthContext& ctx, const std::optional<store::UserRecord>& user,
                                      const std::string& client_ip) {
  std::vector<ThrottleKey> keys{{FailureThrottle::address_key(client_ip), kIpFailureLimit, true}};
  if (user) {
    const std::string account = "user:" + user->id;
    if (user->unlocked_at > 0) ctx.throttle.forget_failures_before(account, user->unlocked_at);
    keys.push_back({account, kAccountFailureLimit, false});
  }
  return keys;
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

Result<store::UserRecord, LoginFailure> check_login(OAuthContext& ctx, const std::string& username,
                                                    const std::string& password, const std::string& totp_code,
                                                    const std::string& client_ip, const std::string& path) {
  const int64_t now = ctx.clock.now();
  auto user = username.empty() || username.size() > 64 ? std::nullopt : ctx.store.find_user_by_name(username);
  // Let in only while failures and attempts in flight are under the limit,
  // so parallel guesses get no more than a sequence would.
  std::vector<ThrottleKey> keys = sign_in_keys(ctx, user, client_ip);
  // A typed name that matches no user is not stored: it is sometimes a
  // password typed into the wrong field.
  const std::string named = user ? "user=" + user->name : "an unknown user name";
  if (auto refusal = ctx.throttle.admit(keys)) {
    if (refusal->busy) {
      ctx.audit.push({now, "login_throttled", user ? user->id : "", "", "", path, 503, client_ip,
                      named + " (the limit is taken by attempts in flight)"});
      return LoginFailure{503, "Too many sign-ins at once. Try again in a few seconds.", 2};
    }
    ctx.audit.push({now, "login_throttled", user ? user->id : "", "", "", path, 429, client_ip, named});
    return LoginFailure{
        429, "Too many failed sign-in attempts. Try again in " + std::to_string(refusal->seconds) + " seconds.",
        refusal->seconds};
  }
  // From here every return counts as a failed attempt unless it says otherwise.
  ThrottleAttempt attempt(ctx.throttle, std::move(keys));
  // At most a few hashes at once (64 MiB each); past the queue, 503.
  if (ctx.password_gate && !ctx.password_gate->enter()) {
    attempt.finish(AttemptOutcome::NotTried);  // no password was checked
    return LoginFailure{503, "Too many sign-ins at once. Try again in a few seconds.", 2};
  }
  bool ok = false;
  if (user) ok = verify_password(password, user->password_hash);
  else burn_password_check(password);
  if (ctx.password_gate) ctx.password_gate->leave();
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
    if (ok) count_towards_lock(ctx, *user, client_ip, path);
    ctx.audit.push({now, "login_failed", user ? user->id : "", "", "", path, 401, client_ip,
                    named + (ok ? " (wrong or reused authenticator code)" : "")});
    // One message for every cause, so it tells nothing about the account.
    return LoginFailure{401, "The user name, password or authenticator code is wrong.", 0};
  }
  attempt.finish(AttemptOutcome::Succeeded);
  if (user->wrong_codes != 0) ctx.store.clear_wrong_codes(user->id);
  ctx.audit.push({now, "login", user->id, "", "", path, 200, client_ip, user->mfa ? "with authenticator code" : ""});
  return *user;
}

}  // namespace plugauth

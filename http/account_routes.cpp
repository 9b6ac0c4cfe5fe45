// /account: an end user's own page. Sign in (same session as /authorize),
// list, create (shown once) and revoke their own user_http API keys, and
// turn two-step sign-in on (with a code from the new secret) or off (with a
// current code). What binds the account to something new or mints a key asks
// for the password again (SPEC §8.16, auth/page_forms.h).
#include <httplib.h>

#include "auth/login.h"
#include "auth/sign_ins.h"
#include "auth/totp.h"
#include "auth/two_step.h"
#include "common/clock.h"
#include "http/forms.h"
#include "http/oauth_routes.h"
#include "http/pages.h"

namespace plugauth {
namespace {

constexpr size_t kMaxKeysPerUser = 100;

std::string day(int64_t t) { return format_utc(t, "%Y-%m-%d"); }

class AccountRoutes {
 public:
  AccountRoutes(OAuthContext& ctx, Sessions& sessions)
      : ctx_(ctx), sessions_(sessions), cookie_names_(page_cookie_names(ctx.config.issuer)) {}

  void get(const httplib::Request& req, httplib::Response& res) {
    auto cookies = http::page_cookies_or_refuse(req, res, cookie_names_);
    if (!cookies) return;
    render(*cookies, res, "", "", 200);
  }

  // Every action, sign-in and sign-out included, runs only for a form the
  // anti-forgery rule accepts (auth/page_forms.h); a refused one gets a 403
  // and a fresh page bound to this browser's cookies.
  void post(const httplib::Request& req, httplib::Response& res) {
    if (!http::page_cookies_or_refuse(req, res, cookie_names_)) return;
    auto form = http::body_params(req);
    if (!form) return http::send_page(res, 400, pages::error_page("Invalid request", form.error().message));
    auto check = check_form(http::cookie_headers(req), (*form)["csrf"], cookie_names_, sessions_.form_key());
    if (check.verdict == FormVerdict::RepeatedCookie)
      return http::send_page(res, 400, pages::repeated_cookie_page(check.repeated_name));
    if (!check.accepted()) return render(check.cookies, res, pages::kFormExpiredMessage, "", 403);
    const PageCookies& cookies = check.cookies;
    const std::string action = (*form)["action"];
    if (action == "login") {
      auto user = check_login(ctx_, (*form)["username"], (*form)["password"], (*form)["totp"], req.remote_addr,
                              req.path);
      if (!user) {
        if (user.error().retry_after > 0) res.set_header("Retry-After", std::to_string(user.error().retry_after));
        return render(cookies, res, user.error().message, "", user.error().status);
      }
      res.set_header("Set-Cookie", http::set_cookie(cookie_names_.session, sessions_.create(user->id),
                                                    cookie_names_.secure, Sessions::kLifetimeSeconds));
      return see_other(res);
    }
    auto user = sessions_.resolve(cookies.session);
    if (!user) return render(cookies, res, "Your session ended; sign in again.", "", 401);
    const int64_t now = ctx_.clock.now();
    if (action == "logout") {
      sessions_.destroy(cookies.session);
      res.set_header("Set-Cookie", http::set_cookie(cookie_names_.session, "", cookie_names_.secure, -1));
      return see_other(res);
    }
    if (action == "create") {
      if (!password_confirmed(SensitiveAction::CreateKey, *user, cookies, *form, req, res)) return;
      std::string label = (*form)["name"].substr(0, 128);
      size_t active = 0;
      for (const auto& k : ctx_.store.api_keys(user->name))
        if (!k.revoked_at) ++active;
      if (active >= kMaxKeysPerUser) return render(cookies, res, "You have too many keys; revoke one first.", "", 400);
      auto minted = ctx_.crypto.mint_token(TokenType::ApiKey, ctx_.random);
      store::ApiKeyRecord rec;
      rec.key_id = minted.id;
      rec.kind = "user";
      rec.user_id = user->id;
      rec.name = label;
      rec.secret_hash = minted.hash;
      rec.created_at = now;
      ctx_.store.insert_api_key(rec);
      ctx_.audit.push({now, "key_created", user->id, "", rec.key_id, "/account", 200, req.remote_addr, "self-service"});
      return render(cookies, res, "", minted.token, 200);
    }
    if (action == "revoke") {
      auto key = ctx_.store.find_api_key((*form)["key_id"]);
      if (!key || key->user_id != user->id) return render(cookies, res, "No such key.", "", 404);
      ctx_.store.revoke_api_key(key->key_id, now);
      ctx_.verifier.invalidate();
      ctx_.audit.push({now, "key_revoked", user->id, "", key->key_id, "/account", 200, req.remote_addr, "self-service"});
      return see_other(res);
    }
    if (action == "totp_start") {
      if (user->mfa) return render(cookies, res, "Two-step sign-in is already on.", "", 400);
      const TotpSetup setup = new_totp_setup(ctx_.random, ctx_.config.issuer, *user);
      pages::TwoStepView view;
      view.setup_secret = setup.secret_base32;
      view.setup_uri = setup.otpauth_uri;
      view.setup_token = seal_pending_totp(ctx_.crypto, ctx_.random, user->id, setup.secret, now);
      return render(cookies, res, "", "", 200, &view);
    }
    if (action == "totp_confirm") {
      if (user->mfa) return render(cookies, res, "Two-step sign-in is already on.", "", 400);
      auto secret = open_pending_totp(ctx_.crypto, user->id, (*form)["setup"], now);
      if (!secret) return render(cookies, res, "The setup expired or was changed; start again.", "", 400);
      // On a refusal the same setup is shown again, so the app need not be
      // set up twice.
      pages::TwoStepView view;
      view.setup_secret = totp::base32(*secret);
      view.setup_uri = totp_uri_for(ctx_.config.issuer, *user, *secret);
      view.setup_token = (*form)["setup"];
      if (!password_confirmed(SensitiveAction::TurnTwoStepOn, *user, cookies, *form, req, res, &view)) return;
      auto step = totp::accepted_step(*secret, (*form)["totp"], now, -1);
      if (!step)
        return render(cookies, res, "That code is not the one the app shows now; check the phone's clock and try again.",
                      "", 400, &view);
      ctx_.store.set_user_totp(user->id, seal_totp_secret(ctx_.crypto, ctx_.random, user->id, *secret), now);
      ctx_.store.advance_totp_step(user->id, *step);  // the code just used does not sign in
      // SPEC §8.15: what signed in without the new factor ends, but this
      // session, which just proved it has the authenticator.
      const auto parsed = ctx_.crypto.parse_token(cookies.session);
      const EndedSignIns ended = end_user_sign_ins(ctx_.store, ctx_.clock, user->id,
                                                   parsed ? std::optional(parsed->id) : std::nullopt, &ctx_.verifier);
      ctx_.audit.push({now, "mfa_enabled", user->id, "", "", "/account", 200, req.remote_addr,
                       "self-service; ended " + std::to_string(ended.sessions) + " other session(s), " +
                           std::to_string(ended.grants) + " grant(s)"});
      return see_other(res);
    }
    if (action == "totp_disable") {
      if (!user->mfa) return see_other(res);
      // The password and the current code, checked as a sign-in is: the one
      // budget of wrong passwords and codes (SPEC §8.9), and wrong codes with
      // the right password count towards the lock.
      if (!password_confirmed(SensitiveAction::TurnTwoStepOff, *user, cookies, *form, req, res)) return;
      ctx_.store.set_user_totp(user->id, std::nullopt, now);
      ctx_.audit.push({now, "mfa_disabled", user->id, "", "", "/account", 200, req.remote_addr, "self-service"});
      return see_other(res);
    }
    http::send_page(res, 400, pages::error_page("Invalid request", "unknown action"));
  }

 private:
  // SPEC §8.16, the rule in auth/page_forms.h: true when `action` may go
  // ahead (the password was entered recently enough, or this form carries
  // the right password and code); else the refusal has been rendered. A
  // form with no password is asked for it and counts as no attempt; a wrong
  // one counts in the sign-in throttle, as at sign-in.
  bool password_confirmed(SensitiveAction action, const store::UserRecord& user, const PageCookies& cookies,
                          const std::map<std::string, std::string>& form, const httplib::Request& req,
                          httplib::Response& res, const pages::TwoStepView* view = nullptr) {
    const auto entered_at = sessions_.password_entered_at(cookies.session);
    if (entered_at && !needs_password(action, *entered_at, ctx_.clock.now())) return true;
    const auto field = [&](const char* name) {
      auto it = form.find(name);
      return it == form.end() ? std::string() : it->second;
    };
    if (field("password").empty()) {
      render(cookies, res, "Enter your password to do this.", "", 401, view);
      return false;
    }
    auto checked = check_login(ctx_, user.name, field("password"), field("totp"), req.remote_addr, req.path);
    if (!checked || checked->id != user.id) {
      const int status = checked ? 401 : checked.error().status;
      if (!checked && checked.error().retry_after > 0)
        res.set_header("Retry-After", std::to_string(checked.error().retry_after));
      render(cookies, res, checked ? "Sign in again." : checked.error().message, "", status, view);
      return false;
    }
    sessions_.password_entered(cookies.session);
    return true;
  }

  void see_other(httplib::Response& res) {
    http::page_headers(res);
    res.set_redirect("/account", 303);
  }

  void render(PageCookies cookies, httplib::Response& res, const std::string& message, const std::string& new_key,
              int status, const pages::TwoStepView* setup = nullptr) {
    const std::string csrf = http::page_form_token(cookies, cookie_names_, sessions_, res);
    auto user = sessions_.resolve(cookies.session);
    if (!user) return http::send_page(res, status, pages::login_page("/account", {{"csrf", csrf}}, nullptr, message));
    std::vector<pages::KeyView> keys;
    for (const auto& k : ctx_.store.api_keys(user->name)) {
      if (k.revoked_at) continue;
      keys.push_back({k.key_id, k.name, k.scope.value_or(""), day(k.created_at),
                      k.last_used_at ? day(*k.last_used_at) : "never", k.expires_at ? day(*k.expires_at) : ""});
    }
    pages::TwoStepView two_step = setup ? *setup : pages::TwoStepView{};
    two_step.enabled = user->mfa;
    const auto entered_at = sessions_.password_entered_at(cookies.session);
    const bool key_needs_password =
        !entered_at || needs_password(SensitiveAction::CreateKey, *entered_at, ctx_.clock.now());
    http::send_page(res, status,
                    pages::account_page(user->name, csrf, keys, new_key, message, two_step, key_needs_password));
  }

  OAuthContext& ctx_;
  Sessions& sessions_;
  const PageCookieNames cookie_names_;
};

}  // namespace

void register_account_routes(httplib::Server& server, OAuthContext& ctx, Sessions& sessions) {
  auto routes = std::make_shared<AccountRoutes>(ctx, sessions);
  server.Get("/account", [routes](const httplib::Request& q, httplib::Response& r) { routes->get(q, r); });
  server.Post("/account", [routes](const httplib::Request& q, httplib::Response& r) { routes->post(q, r); });
}

}  // namespace plugauth

// The anti-forgery rule of the HTML pages (/authorize, /account and its
// sign-out form), SPEC §8.8, in one place: which cookies a page reads, which
// token its forms carry, and whether a posted form belongs to the browser
// that posts it. http/ hands in the Cookie header(s) exactly as sent and the
// form's `csrf` field, and renders the answer; it decides nothing.
// tests/unit/page_forms_test.cpp is the specification.
//
// Every form carries a token: a keyed MAC of the cookie it is bound to.
//   - Once the browser holds a session cookie, the form is bound to the
//     session. The MAC covers the whole session cookie, not only its public
//     id: a stranger who puts someone else's session id into a cookie of
//     their own must not get a page that mints a token for that session.
//   - Before that, the form is bound to the pre-session cookie, a random
//     value the page sets.
//   A token minted for another cookie does not verify. This is what stops a
//   planted cookie: an attacker who can set a cookie for the host (a sibling
//   subdomain, the plugin on the same host, anyone on the path of plain
//   http) can make the victim's browser send the attacker's pre-session
//   cookie, for which the attacker holds a valid token, but a signed-in
//   victim's forms are bound to the victim's session, which nobody else
//   has seen.
//
// Cookies are `__Host-` prefixed when the issuer is https (RFC 6265bis
// §4.1.3.2): a browser accepts such a cookie only from this very host, over
// https, with Path=/ and no Domain, so nobody else can plant one. Plain http
// keeps the historical names (a `__Host-` cookie cannot be set over http).
//
// A request that carries one of the names read here twice, in one Cookie
// header or across several, is refused (400) before anything is read:
// browsers order duplicates by path length and creation time, not by who set
// them, so which copy is "the" cookie cannot be decided (RFC 6265 §5.4).
// Names plugauth does not read are not its business: refusing their repeats
// would let anyone who can plant a cookie break the pages.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "auth/crypto.h"

namespace plugauth {

struct PageCookieNames {
  std::string session;      // plugauth_session, or __Host-plugauth_session
  std::string pre_session;  // plugauth_csrf, or __Host-plugauth_csrf
  bool secure = false;      // set them with Secure (https issuer)
};

// `__Host-` names and Secure for an https issuer; the plain names otherwise.
PageCookieNames page_cookie_names(std::string_view issuer);

// The page cookies as the browser sent them; "" when absent.
struct PageCookies {
  std::string session;
  std::string pre_session;
};

struct PageCookieReading {
  std::string repeated_name;  // non-empty: refuse the request (400)
  PageCookies cookies;
};

// Reads every Cookie header (RFC 6265 §4.2: "name=value" pairs separated by
// ";"; whitespace around a name or value is dropped; a pair without "=" is a
// nameless cookie and names nothing). Names compare exactly (cookie names
// are case-sensitive).
PageCookieReading read_page_cookies(const std::vector<std::string_view>& cookie_headers,
                                    const PageCookieNames& names);

// A cookie value shorter than this binds nothing: it was not set by plugauth.
inline constexpr size_t kMinBindingLength = 16;

// The token every form on a page shown with these cookies carries: bound to
// the session cookie if there is one, else to the pre-session cookie. ""
// when there is neither (the page must set a fresh pre-session cookie
// first).
std::string form_token(const PageCookies& cookies, const SecretKey& key);

enum class FormVerdict {
  Accept,
  RepeatedCookie,         // 400: a page cookie name appears twice
  NoCookie,               // 403: no cookie to bind to (a cross-site post, cookies off)
  NoToken,                // 403: the form has no token
  TokenForAnotherCookie,  // 403: minted for another session or pre-session cookie
};

struct FormCheck {
  FormVerdict verdict = FormVerdict::NoCookie;
  std::string repeated_name;  // for RepeatedCookie
  PageCookies cookies;        // as read (empty for RepeatedCookie)
  bool accepted() const { return verdict == FormVerdict::Accept; }
  int status() const;          // 200, 400 or 403
  const char* reason() const;  // for the log; never shown with a secret
};

// The rule: may this form, posted with these Cookie headers, be acted on?
// Compares in constant time.
FormCheck check_form(const std::vector<std::string_view>& cookie_headers, std::string_view presented_token,
                     const PageCookieNames& names, const SecretKey& key);

// --- the password asked again (SPEC §8.16) -------------------------------------
//
// A session cookie is a bearer credential: whoever copied it acts as the
// user. So what binds the account to something new, or mints a long-lived
// credential from the session, asks for the password again (and the current
// authenticator code when two-step sign-in is on), in the same form:
//   - turning two-step sign-in on (else the copier enrols their own
//     authenticator and the owner is shut out) or off: always;
//   - creating an API key: unless the password was entered within the last
//     10 minutes, at sign-in or on a form of this session.
// Revoking a key, signing out and setting up (showing a secret that is not
// yet in force) only take away or show; they need the session alone.
// Wrong passwords typed there count in the sign-in throttle.
enum class SensitiveAction { CreateKey, TurnTwoStepOn, TurnTwoStepOff };

inline constexpr int64_t kRecentPasswordSeconds = 10 * 60;

// Must the form for `action` carry the password, for a session whose user
// last entered it at `password_entered_at`? A time in the future (a clock
// set back) is not "recent": it asks.
bool needs_password(SensitiveAction action, int64_t password_entered_at, int64_t now);

}  // namespace plugauth

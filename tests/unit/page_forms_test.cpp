// The pages' anti-forgery rule (SPEC §8.8, auth/page_forms.h), each case
// named for the rule. The hostile cases are the planted-cookie attack of
// issue 18: an attacker who can set a cookie for the host, and holds a valid
// form token for a cookie of their own, makes a signed-in victim's browser
// post that form.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "auth/page_forms.h"
#include "http/pages.h"

using namespace plugauth;

namespace {

const PageCookieNames kHttp = page_cookie_names("http://127.0.0.1:8080");
const PageCookieNames kHttps = page_cookie_names("https://auth.example.com");

const SecretKey& key() {
  static const SecretKey k(std::string(32, 'k'));
  return k;
}

// Cookie values as plugauth would set them (long enough to bind).
const std::string kVictimSession = "pax_0123456789abcdef_victim-session-secret-value";
const std::string kVictimPre = "victim-pre-session-cookie-value";
const std::string kAttackerPre = "attacker-pre-session-cookie-val";
const std::string kAttackerSession = "pax_fedcba9876543210_attacker-session-secret-val";

std::string token_for_pre_session(const std::string& value) { return form_token({"", value}, key()); }
std::string token_for_session(const std::string& value) { return form_token({value, ""}, key()); }

FormCheck check(std::vector<std::string_view> headers, const std::string& token,
                const PageCookieNames& names = kHttp) {
  return check_form(headers, token, names, key());
}

}  // namespace

TEST_CASE("a form minted for the browser's own pre-session cookie is accepted") {
  auto c = check({"plugauth_csrf=" + kVictimPre}, token_for_pre_session(kVictimPre));
  CHECK(c.accepted());
  CHECK(c.status() == 200);
  CHECK(c.cookies.pre_session == kVictimPre);
}

TEST_CASE("once signed in, a form is bound to the session") {
  const std::string header = "plugauth_csrf=" + kVictimPre + "; plugauth_session=" + kVictimSession;
  CHECK(check({header}, token_for_session(kVictimSession)).accepted());
  // The pre-session token of the very same browser no longer counts: it was
  // minted before the session and is bound to another cookie.
  CHECK(check({header}, token_for_pre_session(kVictimPre)).verdict == FormVerdict::TokenForAnotherCookie);
}

TEST_CASE("a form minted for another cookie is refused") {
  SECTION("the attacker's own pre-session cookie, planted beside the victim's session") {
    const std::string header = "plugauth_csrf=" + kAttackerPre + "; plugauth_session=" + kVictimSession;
    auto c = check({header}, token_for_pre_session(kAttackerPre));
    CHECK(c.verdict == FormVerdict::TokenForAnotherCookie);
    CHECK(c.status() == 403);
  }
  SECTION("a form of the attacker's own session") {
    auto c = check({"plugauth_session=" + kVictimSession}, token_for_session(kAttackerSession));
    CHECK(c.verdict == FormVerdict::TokenForAnotherCookie);
  }
  SECTION("another browser's pre-session cookie") {
    auto c = check({"plugauth_csrf=" + kVictimPre}, token_for_pre_session(kAttackerPre));
    CHECK(c.verdict == FormVerdict::TokenForAnotherCookie);
  }
  SECTION("a token minted under another key (another installation)") {
    const SecretKey other(std::string(32, 'o'));
    auto c = check({"plugauth_csrf=" + kVictimPre}, form_token({"", kVictimPre}, other));
    CHECK(c.verdict == FormVerdict::TokenForAnotherCookie);
  }
}

TEST_CASE("a session cookie's value moved into the pre-session cookie does not carry the session's forms") {
  // Same value, other cookie: the two bindings are MACed under different labels.
  CHECK(token_for_session(kVictimSession) != token_for_pre_session(kVictimSession));
  auto c = check({"plugauth_csrf=" + kVictimSession}, token_for_session(kVictimSession));
  CHECK(c.verdict == FormVerdict::TokenForAnotherCookie);
}

TEST_CASE("a repeated cookie name is refused") {
  const std::string attacker_token = token_for_pre_session(kAttackerPre);
  SECTION("attacker's cookie first") {
    auto c = check({"plugauth_csrf=" + kAttackerPre + "; plugauth_csrf=" + kVictimPre +
                    "; plugauth_session=" + kVictimSession},
                   attacker_token);
    CHECK(c.verdict == FormVerdict::RepeatedCookie);
    CHECK(c.status() == 400);
    CHECK(c.repeated_name == "plugauth_csrf");
  }
  SECTION("victim's cookie first") {
    auto c = check({"plugauth_csrf=" + kVictimPre + "; plugauth_csrf=" + kAttackerPre +
                    "; plugauth_session=" + kVictimSession},
                   attacker_token);
    CHECK(c.verdict == FormVerdict::RepeatedCookie);
  }
  SECTION("the session cookie twice") {
    auto c = check({"plugauth_session=" + kAttackerSession + "; plugauth_session=" + kVictimSession},
                   token_for_session(kVictimSession));
    CHECK(c.verdict == FormVerdict::RepeatedCookie);
    CHECK(c.repeated_name == "plugauth_session");
  }
  SECTION("split across two Cookie headers") {
    auto c = check({"plugauth_csrf=" + kAttackerPre, "plugauth_csrf=" + kVictimPre}, attacker_token);
    CHECK(c.verdict == FormVerdict::RepeatedCookie);
  }
  SECTION("even with the right token for one of the copies") {
    auto c = check({"plugauth_csrf=" + kVictimPre + "; plugauth_csrf=" + kVictimPre},
                   token_for_pre_session(kVictimPre));
    CHECK(c.verdict == FormVerdict::RepeatedCookie);
  }
  SECTION("a copy disguised with whitespace around the name, or an empty value") {
    for (std::string disguised : {" plugauth_csrf =" + kAttackerPre, "\tplugauth_csrf\t= " + kAttackerPre,
                                  std::string("plugauth_csrf="), std::string("plugauth_csrf = ")}) {
      INFO(disguised);
      auto c = check({"plugauth_csrf=" + kVictimPre + ";" + disguised}, token_for_pre_session(kVictimPre));
      CHECK(c.verdict == FormVerdict::RepeatedCookie);
    }
  }
  SECTION("an https page's __Host- cookie twice") {
    auto c = check({"__Host-plugauth_session=" + kVictimSession + "; __Host-plugauth_session=" + kAttackerSession},
                   token_for_session(kVictimSession), kHttps);
    CHECK(c.verdict == FormVerdict::RepeatedCookie);
  }
}

TEST_CASE("a repeated cookie the pages do not read is no reason to refuse") {
  // Refusing those would let anyone who can plant any cookie break the pages.
  auto c = check({"theme=dark; theme=light; plugauth_csrf=" + kVictimPre + "; _ga=1; _ga=2"},
                 token_for_pre_session(kVictimPre));
  CHECK(c.accepted());
}

TEST_CASE("with an https issuer the pages read only the __Host- cookies") {
  CHECK(kHttps.session == "__Host-plugauth_session");
  CHECK(kHttps.pre_session == "__Host-plugauth_csrf");
  CHECK(kHttps.secure);
  CHECK(kHttp.session == "plugauth_session");
  CHECK(kHttp.pre_session == "plugauth_csrf");
  CHECK_FALSE(kHttp.secure);

  SECTION("a planted cookie without the prefix is ignored") {
    // A sibling subdomain can set plugauth_csrf (Domain=…) but not a
    // __Host- cookie; over https the plain name is not a page cookie.
    const std::string header = "plugauth_csrf=" + kAttackerPre + "; __Host-plugauth_session=" + kVictimSession;
    CHECK(check({header}, token_for_pre_session(kAttackerPre), kHttps).verdict ==
          FormVerdict::TokenForAnotherCookie);
    CHECK(check({header}, token_for_session(kVictimSession), kHttps).accepted());
  }
  SECTION("plain names twice beside the __Host- ones are not a page cookie repeated") {
    const std::string header = "plugauth_csrf=a; plugauth_csrf=b; __Host-plugauth_csrf=" + kVictimPre;
    CHECK(check({header}, token_for_pre_session(kVictimPre), kHttps).accepted());
  }
  SECTION("only plain cookies: nothing to bind to") {
    CHECK(check({"plugauth_csrf=" + kAttackerPre}, token_for_pre_session(kAttackerPre), kHttps).verdict ==
          FormVerdict::NoCookie);
  }
  SECTION("names differing in case are other cookies") {
    CHECK(check({"__host-plugauth_csrf=" + kAttackerPre}, token_for_pre_session(kAttackerPre), kHttps).verdict ==
          FormVerdict::NoCookie);
  }
}

TEST_CASE("a form posted without any page cookie is refused") {
  // A cross-site post, or a browser that keeps no cookies.
  CHECK(check({}, token_for_pre_session(kVictimPre)).verdict == FormVerdict::NoCookie);
  CHECK(check({""}, token_for_pre_session(kVictimPre)).verdict == FormVerdict::NoCookie);
  CHECK(check({"other=1"}, token_for_pre_session(kVictimPre)).status() == 403);
}

TEST_CASE("a form without a token is refused") {
  auto c = check({"plugauth_csrf=" + kVictimPre}, "");
  CHECK(c.verdict == FormVerdict::NoToken);
  CHECK(c.status() == 403);
}

TEST_CASE("a cookie too short to have been set by plugauth binds nothing") {
  // An attacker-chosen one-letter cookie must not be a binding they can predict.
  CHECK(form_token({"", "x"}, key()).empty());
  CHECK(form_token({"y", ""}, key()).empty());
  CHECK(check({"plugauth_csrf=x"}, form_token({"", "x"}, key())).verdict == FormVerdict::NoCookie);
  // A short session cookie does not hide the pre-session binding, nor stand in for it.
  CHECK(check({"plugauth_session=y; plugauth_csrf=" + kVictimPre}, token_for_pre_session(kVictimPre)).accepted());
}

TEST_CASE("the token must match exactly") {
  const std::string good = token_for_pre_session(kVictimPre);
  const std::string header = "plugauth_csrf=" + kVictimPre;
  std::string upper = good;
  for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  for (const std::string& bad : {good + " ", " " + good, good.substr(1), good + "A", upper}) {
    INFO(bad);
    CHECK_FALSE(check({header}, bad).accepted());
  }
}

TEST_CASE("a pair without '=' is a nameless cookie and names nothing") {
  // Browsers send a nameless cookie as its bare value.
  auto reading = read_page_cookies({"plugauth_csrf; plugauth_session"}, kHttp);
  CHECK(reading.repeated_name.empty());
  CHECK(reading.cookies.pre_session.empty());
  CHECK(reading.cookies.session.empty());
}

TEST_CASE("cookie values are read up to the next semicolon, equals signs included") {
  auto reading = read_page_cookies({"a=1;plugauth_csrf=ab=cd==;plugauth_session= spaced ;b"}, kHttp);
  CHECK(reading.repeated_name.empty());
  CHECK(reading.cookies.pre_session == "ab=cd==");
  CHECK(reading.cookies.session == "spaced");
}

TEST_CASE("the token does not depend on the order the cookies were sent in") {
  const std::string token = token_for_session(kVictimSession);
  CHECK(check({"plugauth_csrf=" + kVictimPre + "; plugauth_session=" + kVictimSession}, token).accepted());
  CHECK(check({"plugauth_session=" + kVictimSession + "; plugauth_csrf=" + kVictimPre}, token).accepted());
  CHECK(check({"plugauth_session=" + kVictimSession, "plugauth_csrf=" + kVictimPre}, token).accepted());
}

TEST_CASE("the consent page shows a client name's bidi override and controls as escapes, never raw") {
  plugauth::pages::ClientView client;
  client.name = "Notes\xe2\x80\xae" "ppa.exe\x1b[2K<b>";
  client.client_id = "c_1";
  client.redirect_host = "app.example";
  const std::string page =
      plugauth::pages::consent_page("/authorize", {{"csrf", "t"}}, client, "alice", {{"notes:read", "Read"}});
  CHECK(page.find("\xe2\x80\xae") == std::string::npos);
  CHECK(page.find('\x1b') == std::string::npos);
  CHECK(page.find("Notes\\u{202e}ppa.exe\\x1b[2K&lt;b&gt;") != std::string::npos);
}

// --- SPEC §8.16: the password asked again -------------------------------------

TEST_CASE("creating a key 9 minutes after the password was entered does not ask for it again") {
  const int64_t signed_in = 1'800'000'000;
  CHECK_FALSE(needs_password(SensitiveAction::CreateKey, signed_in, signed_in));
  CHECK_FALSE(needs_password(SensitiveAction::CreateKey, signed_in, signed_in + 9 * 60));
  CHECK_FALSE(needs_password(SensitiveAction::CreateKey, signed_in, signed_in + 10 * 60));
}

TEST_CASE("creating a key 11 minutes after the password was entered asks for it again") {
  const int64_t signed_in = 1'800'000'000;
  CHECK(needs_password(SensitiveAction::CreateKey, signed_in, signed_in + 10 * 60 + 1));
  CHECK(needs_password(SensitiveAction::CreateKey, signed_in, signed_in + 11 * 60));
  CHECK(needs_password(SensitiveAction::CreateKey, signed_in, signed_in + 12 * 3600));
}

TEST_CASE("a password time in the future is not recent: the clock was set back, so it asks") {
  const int64_t now = 1'800'000'000;
  CHECK(needs_password(SensitiveAction::CreateKey, now + 1, now));
}

TEST_CASE("turning two-step sign-in on or off always asks for the password, even just after sign-in") {
  const int64_t now = 1'800'000'000;
  CHECK(needs_password(SensitiveAction::TurnTwoStepOn, now, now));
  CHECK(needs_password(SensitiveAction::TurnTwoStepOff, now, now));
  CHECK(needs_password(SensitiveAction::TurnTwoStepOn, now, now + 11 * 60));
}

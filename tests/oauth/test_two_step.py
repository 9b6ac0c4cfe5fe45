"""Two-step sign-in (TOTP) and unlocking, checked with pyotp, an
implementation nobody here wrote that computes codes the way authenticator
apps do. The daemon's clock moves through the offset file; pyotp is asked for
the code of the same moment, so nothing waits for a 30-second step to pass.

Covers SPEC §3 (/authorize "optional TOTP code", /account "enable or disable
TOTP") and §4 (`user mfa enable|disable`, `user unlock`)."""

import html
import json
import re
import time

import pyotp
import requests

from conftest import PASSWORD, Browser, hidden_fields, poll, query_of

WRONG = "The user name, password or authenticator code is wrong."


def code_at(totp, offset):
    """The code an app shows when the daemon's clock is `offset` seconds ahead."""
    return totp.at(int(time.time()) + offset)


def enable_by_cli(daemon, name="alice"):
    out = daemon.cli("user", "mfa", "enable", name)
    totp = pyotp.parse_uri(out["otpauth_uri"])
    assert totp.secret == out["secret"]
    assert totp.digits == 6 and totp.interval == 30
    return totp


def test_cli_enable_prints_a_secret_apps_read_and_sign_in_then_needs_the_code(daemon, client):
    totp = enable_by_cli(daemon)
    assert daemon.cli("user", "list")["users"][0]["mfa"] is True
    url = daemon.authorize_url(client)

    # Password alone, or with a wrong code: the same 401 as a wrong password.
    for code in (None, "", "000000" if totp.now() != "000000" else "111111", "12345", "abcdef"):
        page = Browser(daemon).sign_in(url, totp=code)
        assert page.status_code == 401, (code, page.status_code)
        assert WRONG in html.unescape(page.text)

    # The app's current code: consent, then the redirect with a code.
    browser = Browser(daemon)
    consent = browser.sign_in(url, totp=totp.now())
    assert consent.status_code == 200, consent.text
    location = browser.consent(consent).headers["Location"]
    assert query_of(location)["code"]


def test_a_code_signs_in_once(daemon, client):
    totp = enable_by_cli(daemon)
    url = daemon.authorize_url(client)
    code = totp.now()
    assert Browser(daemon).sign_in(url, totp=code).status_code == 200
    again = Browser(daemon).sign_in(url, totp=code)
    assert again.status_code == 401
    assert WRONG in html.unescape(again.text)


def test_codes_follow_the_daemons_clock_with_one_step_of_drift(daemon, client):
    totp = enable_by_cli(daemon)
    url = daemon.authorize_url(client)
    daemon.advance(3600)
    # The phone still at real time is an hour behind: refused.
    stale = code_at(totp, 0)
    if stale not in {code_at(totp, 3600 + d) for d in (-30, 0, 30)}:
        assert Browser(daemon).sign_in(url, totp=stale).status_code == 401
    # A phone 30 s behind the daemon is within the allowed drift.
    assert Browser(daemon).sign_in(url, totp=code_at(totp, 3600 - 30)).status_code == 200
    # 90 s behind is not.
    daemon.advance(7200)
    late = code_at(totp, 7200 - 90)
    if late not in {code_at(totp, 7200 + d) for d in (-30, 0, 30)}:
        assert Browser(daemon).sign_in(url, totp=late).status_code == 401
    assert Browser(daemon).sign_in(url, totp=code_at(totp, 7200)).status_code == 200


def test_cli_disable_and_the_secret_is_not_stored_in_the_clear(daemon, client):
    out = daemon.cli("user", "mfa", "enable", "alice")
    # A second enable is refused (exit 1, the reason on stdout as JSON) and
    # prints no secret, new or old.
    again = daemon.run_cli("user", "mfa", "enable", "alice")
    assert again.returncode == 1, (again.returncode, again.stdout, again.stderr)
    assert "already has two-step sign-in" in json.loads(again.stdout)["error"]
    assert "otpauth" not in again.stdout and out["secret"] not in again.stdout
    secret_b32 = out["secret"]
    raw = pyotp.TOTP(secret_b32).byte_secret()
    for f in daemon.data.glob("plugauth.db*"):
        blob = f.read_bytes()
        assert secret_b32.encode() not in blob and raw not in blob, f
    daemon.cli("user", "mfa", "disable", "alice")
    assert daemon.cli("user", "list")["users"][0]["mfa"] is False
    assert Browser(daemon).sign_in(daemon.authorize_url(client)).status_code == 200


def test_lockout_then_user_unlock_lets_the_right_password_in(daemon, client):
    url = daemon.authorize_url(client)
    for _ in range(10):
        assert Browser(daemon).sign_in(url, password="wrong").status_code == 401
    locked = Browser(daemon).sign_in(url)
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0
    daemon.cli("user", "unlock", "alice")
    assert Browser(daemon).sign_in(url).status_code == 200
    # Counting starts again from zero: one more failure does not lock.
    assert Browser(daemon).sign_in(url, password="wrong").status_code == 401
    assert Browser(daemon).sign_in(url).status_code == 200
    events = daemon.cli("audit", "--action", "user_unlocked")["events"]
    assert len(events) == 1


class Account:
    """A signed-in session on /account, driven as a form-posting browser would."""

    def __init__(self, daemon, totp=None):
        self.daemon = daemon
        self.session = requests.Session()
        page = self.get()
        r = self.post(action="login", csrf=hidden_fields(page.text)["csrf"], username="alice", password=PASSWORD,
                      **({"totp": totp} if totp is not None else {}))
        self.signed_in = r.status_code == 303
        self.last = r

    def get(self):
        return self.session.get(self.daemon.url("/account"), timeout=10)

    def post(self, **fields):
        return self.session.post(self.daemon.url("/account"), data=fields, allow_redirects=False, timeout=10)

    def csrf(self):
        return hidden_fields(self.get().text)["csrf"]


def test_account_page_turns_two_step_on_with_a_code_from_the_new_secret_and_off_with_a_current_one(daemon, client):
    account = Account(daemon)
    assert account.signed_in
    assert "Off: signing in needs only your password." in account.get().text

    started = account.post(action="totp_start", csrf=account.csrf())
    assert started.status_code == 200
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', started.text).group(1)
    uri = html.unescape(re.search(r'id="totp-uri" href="([^"]+)"', started.text).group(1))
    totp = pyotp.parse_uri(uri)
    assert totp.secret == secret
    setup = hidden_fields(started.text)["setup"]

    # A wrong code keeps it off and shows the same secret again.
    wrong = "000000" if totp.now() != "000000" else "111111"
    refused = account.post(action="totp_confirm", csrf=account.csrf(), setup=setup, totp=wrong,
                           password=PASSWORD)
    assert refused.status_code == 400
    assert secret in refused.text
    # A setup sealed for another user, or tampered with, does not open.
    tampered = setup[:-2] + ("AA" if not setup.endswith("AA") else "BB")
    assert account.post(action="totp_confirm", csrf=account.csrf(), setup=tampered,
                        totp=totp.now(), password=PASSWORD).status_code == 400
    assert daemon.cli("user", "list")["users"][0]["mfa"] is False

    code = totp.now()
    assert account.post(action="totp_confirm", csrf=account.csrf(), setup=setup, totp=code,
                        password=PASSWORD).status_code == 303
    assert "On: signing in asks for the code" in account.get().text
    assert daemon.cli("user", "list")["users"][0]["mfa"] is True
    # The code that turned it on does not also sign in.
    assert Browser(daemon).sign_in(daemon.authorize_url(client), totp=code).status_code == 401

    # Signing in to /account now needs the code too.
    assert not Account(daemon).signed_in
    daemon.advance(60)
    # One code, kept: computed twice, it could be two codes when a 30 s step
    # ends between the two calls (the second then fresh and rightly accepted).
    used = code_at(totp, 60)
    fresh = Account(daemon, totp=used)
    assert fresh.signed_in, fresh.last.text

    # Turning it off needs a current, unused code.
    assert fresh.post(action="totp_disable", csrf=fresh.csrf(), totp=used, password=PASSWORD).status_code == 401
    daemon.advance(90)
    assert fresh.post(action="totp_disable", csrf=fresh.csrf(), totp=code_at(totp, 90),
                      password=PASSWORD).status_code == 303
    assert "Off: signing in needs only your password." in fresh.get().text
    assert Account(daemon).signed_in
    # The audit queue is written every 200 ms.
    assert poll(lambda: {"mfa_enabled", "mfa_disabled"} <=
                {e["action"] for e in daemon.cli("audit", "--limit", "50")["events"]})


def test_an_expired_setup_does_not_turn_two_step_on(daemon):
    account = Account(daemon)
    started = account.post(action="totp_start", csrf=account.csrf())
    setup = hidden_fields(started.text)["setup"]
    totp = pyotp.parse_uri(html.unescape(re.search(r'id="totp-uri" href="([^"]+)"', started.text).group(1)))
    daemon.advance(601)
    r = account.post(action="totp_confirm", csrf=account.csrf(), setup=setup, totp=code_at(totp, 601),
                     password=PASSWORD)
    assert r.status_code == 400
    assert "expired" in r.text
    assert daemon.cli("user", "list")["users"][0]["mfa"] is False

"""Issue 20 items 1, 3, 4, 5 and 6, against the real binary, each written as
the attacker's requests.

1. A new factor shuts out the old (SPEC §4, §8.15): turning two-step sign-in
   on, by `user mfa enable` or at /account, ends the sessions and OAuth grants
   that signed in without it within a second — but the /account session that
   turned it on; API keys stay.
3. One budget for wrong codes (SPEC §8.9): wrong authenticator codes at
   /account and at sign-in count together, per account and per address.
4. A used code shown by another client changes nothing (SPEC §8.2).
5. A database others can read is refused by `serve` and failed by `check`,
   naming the chmod (SPEC §6); new databases and backups are 0600.
6. `verify -` reads the token from standard input (SPEC §4)."""

import html
import os
import re
import stat
import subprocess

import pyotp
import requests

from conftest import (BINARY, PASSWORD, Browser, Daemon, assert_invalid_token, assert_oauth_error, free_port,
                      hidden_fields, pkce_pair, poll, query_of)
from test_sign_ins_end import assert_signed_out, signed_in_victim
from test_two_step import Account, code_at


def turn_on_at_account(account):
    """Turns two-step sign-in on from `account`'s session; returns the pyotp TOTP."""
    started = account.post(action="totp_start", csrf=account.csrf())
    assert started.status_code == 200
    totp = pyotp.parse_uri(html.unescape(re.search(r'id="totp-uri" href="([^"]+)"', started.text).group(1)))
    confirmed = account.post(action="totp_confirm", csrf=account.csrf(), setup=hidden_fields(started.text)["setup"],
                             totp=totp.now(), password=PASSWORD)
    assert confirmed.status_code == 303, confirmed.text
    return totp


def wrong_code(totp, offset=0):
    """Six digits the daemon accepts for none of the steps around `offset`."""
    accepted = {code_at(totp, offset + d) for d in (-30, 0, 30)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in accepted)


# --- item 1 -------------------------------------------------------------------

def test_turning_two_step_on_by_cli_ends_the_sessions_that_signed_in_without_it(daemon, client, obtain):
    # The victim's password was phished: the attacker's browser signed in with
    # it alone, and holds a grant's tokens. The owner turns two-step sign-in on.
    browser, url, tokens, key = signed_in_victim(daemon, client, obtain)
    out = daemon.cli("user", "mfa", "enable", "alice")
    assert out["sessions_ended"] >= 2 and out["grants_revoked"] >= 1
    # The password-only browser no longer approves consent, its refresh token
    # is invalid_grant, its access token is refused within a second; API keys stay.
    assert_signed_out(daemon, client, browser, url, tokens, key)
    # With the code, alice signs in again.
    totp = pyotp.parse_uri(out["otpauth_uri"])
    assert Browser(daemon).sign_in(url, totp=totp.now()).status_code == 200
    assert poll(lambda: any(e["action"] == "mfa_enabled" and "ended" in e.get("detail", "")
                            for e in daemon.cli("audit", "--action", "mfa_enabled")["events"]))


def test_turning_two_step_on_at_account_ends_every_other_session_and_grant_but_its_own(daemon, client, obtain):
    browser, url, tokens, key = signed_in_victim(daemon, client, obtain)
    account = Account(daemon)
    assert account.signed_in
    turn_on_at_account(account)
    assert_signed_out(daemon, client, browser, url, tokens, key)
    # The session that turned it on, having just shown the code, stays signed in.
    page = account.get()
    assert "On: signing in asks for the code" in page.text


# --- item 2 -------------------------------------------------------------------

def copied(account):
    """A second client holding a copy of `account`'s cookie jar (a stolen
    session cookie), nothing else: no password, no authenticator."""
    thief = Account.__new__(Account)
    thief.daemon = account.daemon
    thief.session = requests.Session()
    thief.session.cookies.update(account.session.cookies)
    return thief


def start_setup(account):
    started = account.post(action="totp_start", csrf=account.csrf())
    assert started.status_code == 200
    totp = pyotp.parse_uri(html.unescape(re.search(r'id="totp-uri" href="([^"]+)"', started.text).group(1)))
    return totp, hidden_fields(started.text)["setup"]


def test_a_copied_session_cookie_cannot_bind_the_account_to_the_copiers_authenticator(daemon, client):
    owner = Account(daemon)
    thief = copied(owner)
    totp, setup = start_setup(thief)  # setting up only shows a secret not yet in force
    # The thief's authenticator shows the right code; no password, or a guess.
    for password in (None, "", "hunter2"):
        fields = dict(action="totp_confirm", csrf=thief.csrf(), setup=setup, totp=totp.now())
        if password is not None:
            fields["password"] = password
        r = thief.post(**fields)
        assert r.status_code == 401, (password, r.status_code)
        assert 'id="on-password"' in r.text, "the form asks for the password again"
    assert daemon.cli("user", "list")["users"][0]["mfa"] is False
    # The owner's next sign-in with the right password alone still works.
    assert Browser(daemon).sign_in(daemon.authorize_url(client)).status_code == 200


def test_turning_two_step_off_needs_the_password_as_well_as_the_current_code(daemon):
    account = Account(daemon)
    totp = turn_on_at_account(account)
    daemon.advance(60)
    r = account.post(action="totp_disable", csrf=account.csrf(), totp=code_at(totp, 60))
    assert r.status_code == 401 and 'id="off-password"' in r.text
    daemon.advance(90)
    r = account.post(action="totp_disable", csrf=account.csrf(), totp=code_at(totp, 90), password="not it")
    assert r.status_code == 401
    assert daemon.cli("user", "list")["users"][0]["mfa"] is True
    daemon.advance(120)
    r = account.post(action="totp_disable", csrf=account.csrf(), totp=code_at(totp, 120), password=PASSWORD)
    assert r.status_code == 303
    assert daemon.cli("user", "list")["users"][0]["mfa"] is False


def created_key(response):
    m = re.search(r'id="new-key">([^<]+)<', response.text)
    return m.group(1) if m else None


def test_creating_a_key_needs_the_password_once_the_sign_in_is_10_minutes_old(daemon):
    account = Account(daemon)
    daemon.advance(9 * 60)
    page = account.get()
    assert 'id="key-password"' not in page.text, "9 minutes after sign-in the form does not ask"
    r = account.post(action="create", csrf=account.csrf(), name="at nine minutes")
    assert r.status_code == 200 and created_key(r)

    daemon.advance(11 * 60)
    page = account.get()
    assert 'id="key-password"' in page.text, "11 minutes after sign-in the form asks for the password"
    # A copied cookie, or the owner without the password: no key.
    for fields in ({}, {"password": "not it"}):
        r = copied(account).post(action="create", csrf=account.csrf(), name="thief's", **fields)
        assert r.status_code == 401 and not created_key(r), fields
    assert [k["name"] for k in daemon.cli("key", "list", "--user", "alice")["keys"]] == ["at nine minutes"]
    # With the password the key is made, and the next 10 minutes need it no more.
    r = account.post(action="create", csrf=account.csrf(), name="with the password", password=PASSWORD)
    assert r.status_code == 200 and created_key(r), r.text[:300]
    assert verify_key(daemon, created_key(r)) == 200
    daemon.advance(20 * 60)
    r = account.post(action="create", csrf=account.csrf(), name="nine minutes later")
    assert r.status_code == 200 and created_key(r)


def test_creating_a_key_with_two_step_on_asks_for_the_code_too(daemon):
    account = Account(daemon)
    totp = turn_on_at_account(account)
    daemon.advance(11 * 60)
    assert 'id="key-totp"' in account.get().text
    r = account.post(action="create", csrf=account.csrf(), name="k", password=PASSWORD)
    assert r.status_code == 401 and not created_key(r)
    r = account.post(action="create", csrf=account.csrf(), name="k", password=PASSWORD, totp=code_at(totp, 11 * 60))
    assert r.status_code == 200 and created_key(r)


def test_wrong_passwords_typed_at_account_count_in_the_sign_in_throttle(daemon, client):
    account = Account(daemon)
    daemon.advance(11 * 60)
    statuses = [account.post(action="create", csrf=account.csrf(), name="k", password=f"guess {i}").status_code
                for i in range(11)]
    assert statuses == [401] * 10 + [429], statuses
    # The account's sign-in waits too, even with the right password.
    assert Browser(daemon).sign_in(daemon.authorize_url(client)).status_code == 429
    assert daemon.cli("key", "list", "--user", "alice")["keys"] == []


def verify_key(daemon, key):
    return requests.get(daemon.url("/verify"), headers={"Authorization": f"Bearer {key}"}, timeout=10).status_code


# --- item 3 -------------------------------------------------------------------

def test_wrong_codes_at_account_and_at_sign_in_share_one_budget_sixteen_get_a_429(daemon, client):
    # Someone holding alice's signed-in /account session (and her password)
    # guesses codes in both forms, hoping for two budgets.
    account = Account(daemon)
    totp = turn_on_at_account(account)
    statuses = []
    for _ in range(8):
        statuses.append(account.post(action="totp_disable", csrf=account.csrf(), totp=wrong_code(totp),
                                     password=PASSWORD).status_code)
    url = daemon.authorize_url(client)
    for _ in range(8):
        statuses.append(Browser(daemon).sign_in(url, totp=wrong_code(totp)).status_code)
    assert statuses[:10] == [401] * 10, statuses
    assert statuses[10:] == [429] * 6, statuses
    # /account's form waits too, and says how long.
    r = account.post(action="totp_disable", csrf=account.csrf(), totp=wrong_code(totp), password=PASSWORD)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    # Two-step sign-in is still on.
    assert daemon.cli("user", "list")["users"][0]["mfa"] is True


# --- item 4 -------------------------------------------------------------------

def register(daemon, **metadata):
    body = {"redirect_uris": [f"http://127.0.0.1:{free_port()}/cb"], **metadata}
    r = requests.post(daemon.url("/register"), json=body, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()


def test_a_used_code_shown_by_a_public_or_a_self_registered_client_changes_nothing(daemon, client):
    # The rightful exchange.
    verifier, challenge = pkce_pair()
    code = query_of(Browser(daemon).authorize(daemon.authorize_url(client, challenge=challenge)))["code"]
    exchange = {"grant_type": "authorization_code", "code": code, "redirect_uri": client.redirect_uri}
    first = daemon.token({**exchange, "code_verifier": verifier}, auth=client.basic)
    assert first.status_code == 200, first.text
    tokens = first.json()

    # The code leaked (history, Referer, the callback's access log). A public
    # client's id is public; anyone can register a client.
    public = daemon.add_client("someone-elses-public-app", public=True)
    confidential = register(daemon)  # client_secret_basic by default
    self_public = register(daemon, token_endpoint_auth_method="none")
    own_redirect = {"redirect_uri": client.redirect_uri}
    attempts = {
        "public client's id, no secret, no verifier": daemon.token({**exchange, "client_id": public.client_id}),
        "public client's id with the verifier": daemon.token(
            {**exchange, "client_id": public.client_id, "code_verifier": verifier}),
        "self-registered confidential client": daemon.token(
            {**exchange, **own_redirect, "code_verifier": verifier},
            auth=(confidential["client_id"], confidential["client_secret"])),
        "self-registered public client": daemon.token({**exchange, "client_id": self_public["client_id"]}),
        "its own client without the PKCE verifier": daemon.token(exchange, auth=client.basic),
    }
    for label, r in attempts.items():
        body = assert_oauth_error(r, 400, "invalid_grant")
        assert "revoked" not in body.get("error_description", ""), (label, body)

    # Nothing changed: the rightful client's tokens still work.
    assert daemon.verify(tokens["access_token"]).status_code == 200
    refreshed = daemon.token({"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
                             auth=client.basic)
    assert refreshed.status_code == 200, refreshed.text

    # Only its own client's second use, with the verifier, revokes the grant.
    replay = daemon.token({**exchange, "code_verifier": verifier}, auth=client.basic)
    assert_oauth_error(replay, 400, "invalid_grant")
    assert poll(lambda: daemon.verify(refreshed.json()["access_token"]).status_code == 401, timeout=1.0)
    assert_invalid_token(daemon.verify(tokens["access_token"]))


# --- item 5 -------------------------------------------------------------------

def run_serve(d, timeout=15):
    return subprocess.run([BINARY, "serve", "--listen", f"127.0.0.1:{d.port}", "--data", str(d.data)],
                          capture_output=True, text=True, timeout=timeout)


def test_serve_refuses_a_database_others_can_read_naming_the_chmod(tmp_path):
    d = Daemon(tmp_path)
    d.add_user("alice")
    db = d.data / "plugauth.db"
    # A backup copied back with cp, umask 022.
    os.chmod(db, 0o644)
    r = run_serve(d)
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert f"chmod 600 {db}" in r.stdout + r.stderr
    # A -wal others can read is refused the same way.
    os.chmod(db, 0o600)
    wal = d.data / "plugauth.db-wal"
    wal.touch(mode=0o644)
    os.chmod(wal, 0o644)
    r = run_serve(d)
    assert r.returncode == 1 and f"chmod 600 {wal}" in r.stdout + r.stderr, (r.stdout, r.stderr)
    # Fixed as told, it serves.
    os.chmod(wal, 0o600)
    d.start()
    d.stop()


def test_check_fails_on_a_database_others_can_read(tmp_path):
    d = Daemon(tmp_path)
    d.add_user("alice")
    db = d.data / "plugauth.db"
    os.chmod(db, 0o644)
    r = subprocess.run([BINARY, "check", "--data", str(d.data)], capture_output=True, text=True, timeout=30)
    assert r.returncode != 0, r.stdout
    assert "FAIL  database permissions" in r.stdout and f"chmod 600 {db}" in r.stdout, r.stdout
    os.chmod(db, 0o600)
    r = subprocess.run([BINARY, "check", "--data", str(d.data)], capture_output=True, text=True, timeout=30)
    assert "ok    database permissions" in r.stdout, r.stdout


def private(path):
    return stat.S_IMODE(os.stat(path).st_mode) & 0o077 == 0


def test_a_new_database_its_wal_and_shm_and_a_backup_are_0600_whatever_the_umask(tmp_path, daemon):
    # The running daemon's files, created under the test's umask (022 or laxer).
    for name in ("plugauth.db", "plugauth.db-wal", "plugauth.db-shm"):
        assert private(daemon.data / name), (name, oct(os.stat(daemon.data / name).st_mode))
    backup = tmp_path / "backup.db"
    r = subprocess.run([BINARY, "backup", str(backup), "--data", str(daemon.data)], capture_output=True, text=True,
                       timeout=30, preexec_fn=lambda: os.umask(0))
    assert r.returncode == 0, r.stderr
    assert stat.S_IMODE(os.stat(backup).st_mode) == 0o600


# --- item 6 -------------------------------------------------------------------

def test_verify_dash_reads_the_token_from_standard_input_never_the_command_line(daemon):
    key = daemon.cli("key", "create", "--user", "alice")["key"]
    out = daemon.cli("verify", "-", "--scope", "notes:read", stdin=key + "\n")
    assert out["active"] is True and out["username"] == "alice"
    # A CRLF line works too; nothing on stdin, or an empty line, is a failure (exit 1).
    assert daemon.cli("verify", "-", stdin=key + "\r\n")["active"] is True
    for stdin in ("", "\n"):
        r = daemon.run_cli("verify", "-", stdin=stdin)
        assert r.returncode == 1, (stdin, r.returncode, r.stdout)
    # A wrong token on stdin: invalid, exit 1.
    r = daemon.run_cli("verify", "-", stdin=key[:-2] + "xx\n")
    assert r.returncode == 1

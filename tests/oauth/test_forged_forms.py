"""Issue 18 item 1: consent, keys and sign-out cannot be forged by planting a
cookie (SPEC §8.8). Each test replays the attacker's request against the
real binary.

The attacker can set a cookie for the host (a sibling subdomain, the plugin
served on the same host, anyone on the path of plain http). They load a page
themselves, which gives them a pre-session cookie and a valid form token for
it, plant that cookie in the signed-in victim's browser, and make the
browser post their form. The browser then sends either both copies of the
cookie (in whichever order it likes) or, if the planted one replaced the
victim's, only the attacker's beside the victim's session."""

import http.client
import re
import urllib.parse

import pytest
import requests

from conftest import PASSWORD, Browser, Daemon, free_port, hidden_fields, query_of

EVIL = "https://evil.example/cb"


def cookie_value(response, name):
    """The value a Set-Cookie of `response` gives `name` (None if it sets none)."""
    for header in response.raw.headers.get_all("Set-Cookie") or []:
        pair = header.split(";", 1)[0]
        if pair.split("=", 1)[0].strip() == name:
            return pair.split("=", 1)[1]
    return None


def set_cookie_headers(response):
    return response.raw.headers.get_all("Set-Cookie") or []


def post_as(daemon, path, fields, cookie_headers):
    """A POST whose Cookie header(s) are exactly `cookie_headers` (no cookie jar)."""
    conn = http.client.HTTPConnection("127.0.0.1", daemon.port, timeout=10)
    body = urllib.parse.urlencode(fields)
    conn.putrequest("POST", path)
    conn.putheader("Content-Type", "application/x-www-form-urlencoded")
    conn.putheader("Content-Length", str(len(body)))
    for h in cookie_headers:
        conn.putheader("Cookie", h)
    conn.endheaders(body.encode())
    r = conn.getresponse()
    text = r.read().decode("utf-8", "replace")
    headers = r.headers
    status = r.status
    conn.close()
    return status, headers, text


def get_as(daemon, path, cookie_headers):
    conn = http.client.HTTPConnection("127.0.0.1", daemon.port, timeout=10)
    conn.putrequest("GET", path)
    for h in cookie_headers:
        conn.putheader("Cookie", h)
    conn.endheaders()
    r = conn.getresponse()
    text = r.read().decode("utf-8", "replace")
    status, headers = r.status, r.headers
    conn.close()
    return status, headers, text


def assert_refused_repeated(status, headers, text):
    assert status == 400, (status, text[:300])
    assert "Location" not in headers, headers["Location"]
    assert "twice" in text


def assert_form_expired_with_fresh_form(status, headers, text, stale_token):
    assert status == 403, (status, text[:300])
    assert "Location" not in headers, headers["Location"]
    assert "This form expired" in text
    fresh = hidden_fields(text).get("csrf")
    assert fresh and fresh != stale_token, "a fresh form, with a token of its own, is shown"
    return fresh


@pytest.fixture
def attacker_client(daemon):
    """A client the attacker registered themselves, redirecting to their site."""
    r = requests.post(daemon.url("/register"), json={"redirect_uris": [EVIL], "client_name": "Notes Helper"},
                      timeout=10)
    assert r.status_code == 201, r.text
    return r.json()


def attacker_consent_form(daemon, attacker_client):
    """What the attacker's own browser gets at /authorize: their pre-session
    cookie and the form (with its token) they will make the victim post."""
    q = {"response_type": "code", "client_id": attacker_client["client_id"], "redirect_uri": EVIL,
         "scope": "notes:read", "state": "st", "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
         "code_challenge_method": "S256"}
    page = requests.get(daemon.url("/authorize?" + urllib.parse.urlencode(q)), allow_redirects=False, timeout=10)
    assert page.status_code == 200, page.text
    cookie = cookie_value(page, "plugauth_csrf")
    assert cookie
    fields = hidden_fields(page.text)
    assert fields["csrf"]
    return cookie, dict(fields, action="allow")


def signed_in_victim(daemon, client):
    """A victim's browser signed in at /authorize: (pre-session cookie, session cookie)."""
    browser = Browser(daemon)
    consent = browser.sign_in(daemon.authorize_url(client))
    assert consent.status_code == 200
    return browser.session.cookies["plugauth_csrf"], browser.session.cookies["plugauth_session"]


# --- /authorize ---------------------------------------------------------------

@pytest.mark.parametrize("order", ["attacker-first", "victim-first"])
def test_a_planted_duplicate_cookie_at_consent_is_refused_with_400(daemon, client, attacker_client, order):
    attacker_cookie, form = attacker_consent_form(daemon, attacker_client)
    victim_pre, victim_session = signed_in_victim(daemon, client)
    copies = [f"plugauth_csrf={attacker_cookie}", f"plugauth_csrf={victim_pre}"]
    if order == "victim-first":
        copies.reverse()
    status, headers, text = post_as(daemon, "/authorize", form,
                                    ["; ".join(copies + [f"plugauth_session={victim_session}"])])
    assert_refused_repeated(status, headers, text)
    # The same with the copies in two Cookie headers.
    status, headers, text = post_as(daemon, "/authorize", form,
                                    [copies[0], copies[1] + f"; plugauth_session={victim_session}"])
    assert_refused_repeated(status, headers, text)


def test_a_repeated_cookie_is_refused_on_the_page_itself(daemon, client):
    victim_pre, victim_session = signed_in_victim(daemon, client)
    url = urllib.parse.urlsplit(daemon.authorize_url(client))
    for cookies in (f"plugauth_session=x; plugauth_session={victim_session}",
                    f"plugauth_csrf={victim_pre}; plugauth_csrf=planted-by-someone-else-0123"):
        status, headers, text = get_as(daemon, url.path + "?" + url.query, [cookies])
        assert_refused_repeated(status, headers, text)
        status, headers, text = get_as(daemon, "/account", [cookies])
        assert_refused_repeated(status, headers, text)


def test_a_form_minted_for_the_attackers_cookie_is_refused_at_consent(daemon, client, attacker_client):
    """The planted cookie replaced the victim's: no duplicate, but the form
    was minted for a cookie that is not this session."""
    attacker_cookie, form = attacker_consent_form(daemon, attacker_client)
    _, victim_session = signed_in_victim(daemon, client)
    for cookies in (f"plugauth_csrf={attacker_cookie}; plugauth_session={victim_session}",
                    f"plugauth_session={victim_session}; plugauth_csrf={attacker_cookie}"):
        status, headers, text = post_as(daemon, "/authorize", form, [cookies])
        fresh = assert_form_expired_with_fresh_form(status, headers, text, form["csrf"])
        assert 'value="allow"' in text, "the fresh form is the victim's own consent form"
    # Nothing was granted: no code went anywhere, and the fresh form is the
    # victim's to answer (it works only with the victim's own session).
    status, headers, _ = post_as(daemon, "/authorize", dict(form, csrf=fresh),
                                 [f"plugauth_csrf={attacker_cookie}"])
    assert status == 403 and "Location" not in headers


def test_a_sign_in_form_minted_before_the_session_is_refused_after_it(daemon, client):
    """Forms are bound to the session once there is one: the same browser's
    pre-session token no longer acts."""
    browser = Browser(daemon)
    page = browser.open(daemon.authorize_url(client))
    before = hidden_fields(page.text)
    consent = browser.post(dict(before, action="login", username="alice", password=PASSWORD))
    assert consent.status_code == 200
    after = hidden_fields(consent.text)
    assert after["csrf"] != before["csrf"]
    r = browser.post(dict(before, action="allow"))
    assert r.status_code == 403 and "Location" not in r.headers
    assert "This form expired" in r.text
    r = browser.post(dict(after, action="allow"))
    assert r.status_code == 303 and "code" in query_of(r.headers["Location"])


# --- /account -----------------------------------------------------------------

def account_session(daemon):
    """A victim signed in at /account: the requests.Session with its cookies."""
    s = requests.Session()
    page = s.get(daemon.url("/account"), timeout=10)
    r = s.post(daemon.url("/account"), data={"action": "login", "csrf": hidden_fields(page.text)["csrf"],
                                             "username": "alice", "password": PASSWORD},
               allow_redirects=False, timeout=10)
    assert r.status_code == 303, r.text
    return s


def attacker_account_token(daemon):
    page = requests.get(daemon.url("/account"), timeout=10)
    return cookie_value(page, "plugauth_csrf"), hidden_fields(page.text)["csrf"]


def active_keys(daemon):
    return [k for k in daemon.cli("key", "list", "--user", "alice")["keys"] if not k.get("revoked_at")]


ACCOUNT_FORMS = [
    pytest.param({"action": "create", "name": "attacker's key"}, id="key-creation"),
    pytest.param({"action": "revoke", "key_id": "KEY"}, id="key-revocation"),
    pytest.param({"action": "logout"}, id="sign-out"),
    pytest.param({"action": "login", "username": "mallory", "password": PASSWORD}, id="sign-in-as-attacker"),
]


@pytest.mark.parametrize("fields", ACCOUNT_FORMS)
@pytest.mark.parametrize("order", ["attacker-first", "victim-first"])
def test_a_planted_duplicate_cookie_at_account_is_refused_with_400(daemon, fields, order):
    daemon.add_user("mallory")
    key_id = daemon.cli("key", "create", "--user", "alice", "--name", "laptop")["key_id"]
    attacker_cookie, token = attacker_account_token(daemon)
    victim = account_session(daemon)
    copies = [f"plugauth_csrf={attacker_cookie}", f"plugauth_csrf={victim.cookies['plugauth_csrf']}"]
    if order == "victim-first":
        copies.reverse()
    form = {k: (key_id if v == "KEY" else v) for k, v in fields.items()}
    status, headers, text = post_as(daemon, "/account", dict(form, csrf=token),
                                    ["; ".join(copies + [f"plugauth_session={victim.cookies['plugauth_session']}"])])
    assert_refused_repeated(status, headers, text)
    assert "Set-Cookie" not in headers
    assert [k["key_id"] for k in active_keys(daemon)] == [key_id]
    assert "Sign out" in victim.get(daemon.url("/account"), timeout=10).text, "the victim is still signed in"


@pytest.mark.parametrize("fields", ACCOUNT_FORMS)
def test_an_account_form_minted_for_the_attackers_cookie_is_refused_with_a_fresh_form(daemon, fields):
    daemon.add_user("mallory")
    key_id = daemon.cli("key", "create", "--user", "alice", "--name", "laptop")["key_id"]
    attacker_cookie, token = attacker_account_token(daemon)
    victim = account_session(daemon)
    form = {k: (key_id if v == "KEY" else v) for k, v in fields.items()}
    status, headers, text = post_as(
        daemon, "/account", dict(form, csrf=token),
        [f"plugauth_csrf={attacker_cookie}; plugauth_session={victim.cookies['plugauth_session']}"])
    assert_form_expired_with_fresh_form(status, headers, text, token)
    assert "alice" in text and "Sign out" in text, "the fresh page is the victim's own account page"
    assert "Set-Cookie" not in headers or "plugauth_session" not in headers["Set-Cookie"]
    assert [k["key_id"] for k in active_keys(daemon)] == [key_id]
    page = victim.get(daemon.url("/account"), timeout=10).text
    assert "Sign out" in page and "alice" in page, "the victim is still signed in, as themselves"


def test_the_victims_own_account_forms_still_work(daemon):
    victim = account_session(daemon)
    page = victim.get(daemon.url("/account"), timeout=10)
    r = victim.post(daemon.url("/account"), data={"action": "create", "name": "mine",
                                                  "csrf": hidden_fields(page.text)["csrf"]},
                    allow_redirects=False, timeout=10)
    assert r.status_code == 200 and re.search(r"pak_[0-9a-f]{16}_", r.text), r.text[:300]
    assert len(active_keys(daemon)) == 1
    page = victim.get(daemon.url("/account"), timeout=10)
    r = victim.post(daemon.url("/account"), data={"action": "logout", "csrf": hidden_fields(page.text)["csrf"]},
                    allow_redirects=False, timeout=10)
    assert r.status_code == 303
    assert "Sign out" not in victim.get(daemon.url("/account"), timeout=10).text


# --- https: __Host- cookies ---------------------------------------------------

@pytest.fixture
def https_daemon(tmp_path):
    """A daemon whose issuer is https (as behind a TLS proxy), reached here
    over loopback http: the cookies it sets are what a browser would get."""
    d = Daemon(tmp_path)
    d.add_user("alice")
    d.start(issuer=f"https://localhost:{d.port}")
    try:
        yield d
    finally:
        d.stop()


def assert_host_cookie(header, name):
    pair, *attrs = [a.strip() for a in header.split(";")]
    assert pair.startswith(name + "="), header
    lower = [a.lower() for a in attrs]
    assert "secure" in lower, header
    assert "path=/" in lower, header
    assert not any(a.startswith("domain") for a in lower), header
    assert "httponly" in lower and "samesite=lax" in lower, header


def test_with_an_https_issuer_the_cookies_are_host_prefixed(https_daemon):
    d = https_daemon
    client = d.add_client("notes-gpt")
    page = requests.get(d.authorize_url(client), allow_redirects=False, timeout=10)
    assert page.status_code == 200
    [csrf_header] = set_cookie_headers(page)
    assert_host_cookie(csrf_header, "__Host-plugauth_csrf")
    pre = cookie_value(page, "__Host-plugauth_csrf")

    fields = dict(hidden_fields(page.text), action="login", username="alice", password=PASSWORD)
    status, headers, text = post_as(d, "/authorize", fields, [f"__Host-plugauth_csrf={pre}"])
    assert status == 200, text[:300]
    [session_header] = headers.get_all("Set-Cookie")
    assert_host_cookie(session_header, "__Host-plugauth_session")
    session = session_header.split(";")[0].split("=", 1)[1]
    consent = hidden_fields(text)

    # A cookie without the prefix (what a sibling subdomain can plant) is no page cookie.
    status, _, _ = post_as(d, "/authorize", dict(consent, action="allow"), [f"plugauth_session={session}"])
    assert status == 403
    # The __Host- cookie twice is refused; the right one once is accepted.
    status, headers, text = post_as(d, "/authorize", dict(consent, action="allow"),
                                    [f"__Host-plugauth_session={session}; __Host-plugauth_session={session}"])
    assert_refused_repeated(status, headers, text)
    status, headers, _ = post_as(d, "/authorize", dict(consent, action="allow"),
                                 [f"plugauth_csrf=planted; __Host-plugauth_session={session}"])
    assert status == 303 and "code" in query_of(headers["Location"])

    # /account signs out with the __Host- name too.
    status, _, text = get_as(d, "/account", [f"__Host-plugauth_session={session}"])
    assert status == 200 and "Sign out" in text
    status, headers, _ = post_as(d, "/account", {"action": "logout", "csrf": hidden_fields(text)["csrf"]},
                                 [f"__Host-plugauth_session={session}"])
    assert status == 303
    [cleared] = headers.get_all("Set-Cookie")
    assert_host_cookie(cleared, "__Host-plugauth_session")
    assert "max-age=0" in cleared.lower()


def test_a_planted_cookie_whose_value_decodes_into_the_session_cookie_signs_nobody_in(https_daemon):
    """A sibling subdomain can plant `foo` but not a __Host- cookie. Cookie
    values are read as sent: "%3B%20__Host-plugauth_session%3D…" inside foo's
    value must not become a second cookie (once, the header was
    percent-decoded and the victim was signed into the attacker's account)."""
    d = https_daemon
    page = requests.get(d.url("/account"), timeout=10)
    pre = cookie_value(page, "__Host-plugauth_csrf")
    fields = dict(hidden_fields(page.text), action="login", username="alice", password=PASSWORD)
    status, headers, text = post_as(d, "/account", fields, [f"__Host-plugauth_csrf={pre}"])
    assert status == 303, text[:300]
    attackers_session = headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
    planted = f"foo=%3B%20__Host-plugauth_session%3D{attackers_session}"
    r = requests.get(d.url("/account"), headers={"Cookie": planted}, timeout=10)
    assert r.status_code == 200
    assert "Sign out" not in r.text, "a planted cookie value signed the browser in"

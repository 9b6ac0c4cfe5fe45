"""The attack list, /authorize side: redirect-URI variants, PKCE downgrade,
CSRF, framing, login throttling and scope requests (SPEC §8.4, §8.5, §8.8,
§8.9, §8.11, §8.12; RFC 6749 §3.1.2 and §4.1.2.1, RFC 8252 §7.3, RFC 7636,
RFC 9700 §4.1)."""

import secrets

import pytest

from conftest import Browser, Client, assert_oauth_error, free_port, hidden_fields, pkce_pair, query_of

GOOD = "https://app.example.com/cb"


@pytest.fixture
def web_client(daemon):
    """A client with one https redirect URI and one loopback redirect URI."""
    loopback = f"http://127.0.0.1:{free_port()}/cb"
    c = daemon.add_client("web-app", redirect_uris=[GOOD, loopback])
    c.loopback = loopback
    return c


def assert_error_page(response):
    """SPEC §8.11: unknown client or unregistered redirect_uri → a 400 page, never a redirect."""
    assert response.status_code == 400, (response.status_code, response.headers.get("Location"))
    assert "Location" not in response.headers, response.headers["Location"]
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.headers["X-Frame-Options"] == "DENY"


def assert_error_redirect(response, redirect_uri, error, state):
    """RFC 6749 §4.1.2.1: once the redirect URI is trusted, errors go back to it."""
    assert response.status_code in (302, 303), (response.status_code, response.text)
    location = response.headers["Location"]
    assert location.startswith(redirect_uri + "?"), location
    q = query_of(location)
    assert q["error"] == error, q
    assert q["state"] == state
    assert "code" not in q
    return q


def loopback_variants(uri):
    port = uri.split(":")[2].split("/")[0]
    return [
        uri + "/extra",
        uri + "?x=1",
        uri + "#frag",
        f"http://localhost:{port}/cb",
        f"https://127.0.0.1:{port}/cb",
        f"http://127.0.0.1:{port}@evil.example/cb",
        f"http://127.0.0.1.evil.example:{port}/cb",
        f"http://127.0.0.1:{port}/CB",
    ]


HTTPS_VARIANTS = [
    pytest.param(GOOD + "/extra", id="extra-path"),
    pytest.param(GOOD + "/", id="trailing-slash"),
    pytest.param(GOOD + "?x=1", id="extra-query"),
    pytest.param(GOOD + "#frag", id="fragment"),
    pytest.param("https://APP.example.com/cb", id="host-case"),
    pytest.param("https://app.example.com/CB", id="path-case"),
    pytest.param("https://app.example.com/c%62", id="percent-encoded"),
    pytest.param("https://app.example.com@evil.example/cb", id="userinfo-good@evil"),
    pytest.param("https://evil.example@app.example.com/cb", id="userinfo-evil@good"),
    pytest.param("https://app.example.com:8443/cb", id="other-port"),
    pytest.param("https://app.example.com:443/cb", id="explicit-default-port"),
    pytest.param("http://app.example.com/cb", id="http-scheme"),
    pytest.param("https://app.example.com.evil.example/cb", id="suffix-host"),
    pytest.param("https://evil.example/cb", id="other-host"),
]


@pytest.mark.parametrize("redirect_uri", HTTPS_VARIANTS)
def test_unregistered_redirect_uri_variant_gets_an_error_page(daemon, web_client, redirect_uri):
    r = Browser(daemon).open(daemon.authorize_url(web_client, redirect_uri=redirect_uri, state="st"))
    assert_error_page(r)


def test_loopback_redirect_uri_variants_get_an_error_page(daemon, web_client):
    for variant in loopback_variants(web_client.loopback):
        r = Browser(daemon).open(daemon.authorize_url(web_client, redirect_uri=variant))
        assert r.status_code == 400 and "Location" not in r.headers, (variant, r.status_code, r.headers)


def test_chatgpt_callback_of_another_gpt_gets_an_error_page(daemon):
    gpt = daemon.cli("client", "add", "--name", "my-gpt", "--chatgpt-callback", "g-abc")
    assert set(gpt["redirect_uris"]) == {"https://chat.openai.com/aip/g-abc/oauth/callback",
                                          "https://chatgpt.com/aip/g-abc/oauth/callback"}
    gpt = Client(daemon, gpt)
    for variant in ["https://chat.openai.com/aip/g-abd/oauth/callback",
                    "https://chat.openai.com/aip/g-abc/oauth/callback/../../g-evil/oauth/callback",
                    "https://chat.openai.com.evil.example/aip/g-abc/oauth/callback"]:
        r = Browser(daemon).open(daemon.authorize_url(gpt, redirect_uri=variant))
        assert r.status_code == 400 and "Location" not in r.headers, (variant, r.status_code, r.headers)
    for good in gpt.info["redirect_uris"]:
        r = Browser(daemon).open(daemon.authorize_url(gpt, redirect_uri=good))
        assert r.status_code == 200, (good, r.status_code)


def test_unknown_client_gets_an_error_page(daemon, web_client):
    web_client.client_id = "cl_" + "0" * 24
    assert_error_page(Browser(daemon).open(daemon.authorize_url(web_client, redirect_uri=GOOD)))


def test_redirect_uri_tampered_in_the_posted_form_gets_an_error_page(daemon, web_client):
    browser = Browser(daemon)
    page = browser.open(daemon.authorize_url(web_client, redirect_uri=GOOD))
    assert page.status_code == 200
    fields = hidden_fields(page.text)
    fields.update(redirect_uri="https://evil.example/cb", action="login", username="alice",
                  password="correct horse battery staple")
    assert_error_page(browser.post(fields))


def test_loopback_redirect_uri_matches_any_port(daemon, web_client):
    """RFC 8252 §7.3: for loopback redirect URIs the port is not compared."""
    other = web_client.loopback
    while other == web_client.loopback:
        other = f"http://127.0.0.1:{free_port()}/cb"
    verifier, challenge = pkce_pair()
    location = Browser(daemon).authorize(daemon.authorize_url(web_client, redirect_uri=other, challenge=challenge))
    assert location.startswith(other + "?"), location
    r = daemon.token({"grant_type": "authorization_code", "code": query_of(location)["code"],
                      "redirect_uri": other, "code_verifier": verifier}, auth=web_client.basic)
    assert r.status_code == 200, r.text


# --- PKCE ---------------------------------------------------------------------

def exchange(daemon, client, code, **extra):
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": client.redirect_uri, **extra}
    auth = client.basic if client.client_secret else None
    if not client.client_secret:
        data["client_id"] = client.client_id
    return daemon.token(data, auth=auth)


def test_pkce_downgrade_challenge_without_verifier_is_invalid_grant(daemon, client):
    _, challenge = pkce_pair()
    code = query_of(Browser(daemon).authorize(daemon.authorize_url(client, challenge=challenge)))["code"]
    assert_oauth_error(exchange(daemon, client, code), 400, "invalid_grant")


def test_pkce_downgrade_verifier_without_challenge_is_invalid_grant(daemon, client):
    verifier, _ = pkce_pair()
    code = query_of(Browser(daemon).authorize(daemon.authorize_url(client)))["code"]
    assert_oauth_error(exchange(daemon, client, code, code_verifier=verifier), 400, "invalid_grant")


def test_pkce_wrong_verifier_is_invalid_grant(daemon, client):
    verifier, challenge = pkce_pair()
    other, _ = pkce_pair()
    code = query_of(Browser(daemon).authorize(daemon.authorize_url(client, challenge=challenge)))["code"]
    assert_oauth_error(exchange(daemon, client, code, code_verifier=other), 400, "invalid_grant")
    # The right verifier still works: a failed guess does not hand the code over.
    assert exchange(daemon, client, code, code_verifier=verifier).status_code == 200


def test_pkce_public_client_challenge_without_verifier_is_invalid_grant(daemon):
    public = daemon.add_client("spa", public=True)
    _, challenge = pkce_pair()
    code = query_of(Browser(daemon).authorize(daemon.authorize_url(public, challenge=challenge)))["code"]
    assert_oauth_error(exchange(daemon, public, code), 400, "invalid_grant")


@pytest.mark.parametrize("method", ["plain", None], ids=["plain", "missing-means-plain"])
def test_pkce_plain_method_is_refused(daemon, client, method):
    verifier, _ = pkce_pair()
    url = daemon.authorize_url(client, state="st-plain", challenge=verifier, method=method)
    q = assert_error_redirect(Browser(daemon).open(url), client.redirect_uri, "invalid_request", "st-plain")
    assert q["iss"] == daemon.issuer


def test_public_client_without_pkce_is_refused(daemon):
    public = daemon.add_client("spa", public=True)
    url = daemon.authorize_url(public, state="st-nopkce")
    assert_error_redirect(Browser(daemon).open(url), public.redirect_uri, "invalid_request", "st-nopkce")


# --- CSRF, framing, cookies -----------------------------------------------------

def test_sign_in_post_without_or_with_a_wrong_csrf_token_is_403(daemon, client):
    browser = Browser(daemon)
    page = browser.open(daemon.authorize_url(client))
    fields = hidden_fields(page.text)
    fields.update(action="login", username="alice", password="correct horse battery staple")

    missing = dict(fields)
    del missing["csrf"]
    wrong = dict(fields, csrf=secrets.token_urlsafe(32))
    other_browser = Browser(daemon)
    foreign = dict(fields, csrf=hidden_fields(other_browser.open(daemon.authorize_url(client)).text)["csrf"])

    for name, form in [("missing", missing), ("wrong", wrong), ("another browser's", foreign)]:
        r = browser.post(form)
        assert r.status_code == 403, (name, r.status_code)
        assert "Location" not in r.headers
        assert "plugauth_session" not in r.headers.get("Set-Cookie", ""), name

    # The right token without its cookie (a cross-site form post) is refused too.
    r = Browser(daemon).post(fields)
    assert r.status_code == 403


def test_consent_post_with_a_wrong_csrf_token_is_403(daemon, client):
    browser = Browser(daemon)
    consent = browser.sign_in(daemon.authorize_url(client))
    assert consent.status_code == 200
    fields = hidden_fields(consent.text)
    fields.update(action="allow", csrf=secrets.token_urlsafe(32))
    r = browser.post(fields)
    assert r.status_code == 403
    assert "Location" not in r.headers
    del fields["csrf"]
    r = browser.post(fields)
    assert r.status_code == 403
    assert "Location" not in r.headers


def assert_not_frameable(r):
    assert r.headers.get("X-Frame-Options") == "DENY", dict(r.headers)
    csp = r.headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in csp, csp


def test_pages_cannot_be_framed(daemon, client):
    browser = Browser(daemon)
    sign_in = browser.open(daemon.authorize_url(client))
    assert sign_in.status_code == 200
    assert_not_frameable(sign_in)
    consent = browser.sign_in(daemon.authorize_url(client))
    assert consent.status_code == 200
    assert_not_frameable(consent)
    error = Browser(daemon).open(daemon.authorize_url(client, redirect_uri="https://evil.example/cb"))
    assert error.status_code == 400
    assert_not_frameable(error)
    account = Browser(daemon).session.get(daemon.url("/account"), allow_redirects=False, timeout=10)
    assert_not_frameable(account)


def test_page_cookies_are_httponly_and_samesite_lax(daemon, client):
    browser = Browser(daemon)
    page = browser.open(daemon.authorize_url(client))
    csrf_cookie = page.headers["Set-Cookie"]
    assert csrf_cookie.startswith("plugauth_csrf=")
    consent = browser.sign_in(daemon.authorize_url(client))
    session_cookie = consent.headers["Set-Cookie"]
    assert session_cookie.startswith("plugauth_session=")
    for cookie in (csrf_cookie, session_cookie):
        attrs = [a.strip().lower() for a in cookie.split(";")]
        assert "httponly" in attrs, cookie
        assert "samesite=lax" in attrs, cookie


def test_signed_in_user_is_asked_only_for_consent_next_time(daemon, client):
    browser = Browser(daemon)
    browser.authorize(daemon.authorize_url(client))
    page = browser.open(daemon.authorize_url(client))
    assert page.status_code == 200
    assert 'value="allow"' in page.text and 'name="password"' not in page.text
    fields = hidden_fields(page.text)
    fields["action"] = "allow"
    r = browser.post(fields)
    assert r.status_code == 303 and "code" in query_of(r.headers["Location"])


# --- login throttling ----------------------------------------------------------

def test_ten_wrong_passwords_then_the_right_one_is_429_with_retry_after(daemon, client):
    browser = Browser(daemon)
    page = browser.open(daemon.authorize_url(client))
    fields = hidden_fields(page.text)
    fields.update(action="login", username="alice")
    for i in range(10):
        r = browser.post(dict(fields, password=f"wrong-{i}"))
        assert r.status_code == 401, (i, r.status_code)
        assert "plugauth_session" not in r.headers.get("Set-Cookie", "")

    r = browser.post(dict(fields, password="correct horse battery staple"))
    assert r.status_code == 429, r.status_code
    assert int(r.headers["Retry-After"]) > 0
    assert "plugauth_session" not in r.headers.get("Set-Cookie", "")
    assert 'value="allow"' not in r.text


# --- scopes ---------------------------------------------------------------------

def test_unknown_scope_is_dropped_from_a_mixed_request(daemon, client, obtain):
    assert obtain(client, scope="notes:read bogus:scope")["scope"] == "notes:read"


def test_scope_beyond_the_users_role_is_narrowed(daemon, client, obtain):
    token = obtain(client, scope="notes:read notes:write")
    assert token["scope"] == "notes:read"
    assert daemon.verify(token["access_token"]).headers["X-Auth-Scope"] == "notes:read"


def test_only_unknown_scopes_is_invalid_scope(daemon, client):
    url = daemon.authorize_url(client, scope="bogus:scope", state="st-scope")
    assert_error_redirect(Browser(daemon).open(url), client.redirect_uri, "invalid_scope", "st-scope")

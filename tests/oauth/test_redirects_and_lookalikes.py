"""Issue 18, items 3 and 4: /authorize is no open redirector for clients that
registered themselves (SPEC §8.8, RFC 9700 §4.11.2), and redirect URIs are
plain ASCII URIs everywhere they enter (SPEC §3 /register, §4 client add)."""

import pytest
import requests

from conftest import query_of

EVIL = "https://evil.example/cb"


def register(daemon, redirect_uris, **extra):
    body = {"redirect_uris": redirect_uris, "client_name": "self-made", **extra}
    return requests.post(daemon.url("/register"), json=body, timeout=10)


def authorize(daemon, client_id, redirect_uri, **params):
    q = {"client_id": client_id, "redirect_uri": redirect_uri, "response_type": "code", "state": "s1",
         "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "code_challenge_method": "S256"}
    q.update(params)
    return requests.get(daemon.url("/authorize"), params=q, allow_redirects=False, timeout=10)


# Errors /authorize finds after the redirect URI is known, before any sign-in.
ERRORS = [
    pytest.param({"response_type": "token"}, "unsupported_response_type", id="response_type=token"),
    pytest.param({"scope": "no-such-scope"}, "invalid_scope", id="unknown-scope"),
    pytest.param({"resource": "https://elsewhere.example/"}, "invalid_target", id="unknown-resource"),
    pytest.param({"code_challenge_method": "plain"}, "invalid_request", id="pkce-plain"),
]


@pytest.mark.parametrize("params,error", ERRORS)
def test_a_self_registered_client_gets_an_error_page_never_a_redirect(daemon, params, error):
    r = register(daemon, [EVIL])
    assert r.status_code == 201, r.text
    page = authorize(daemon, r.json()["client_id"], EVIL, **params)
    assert page.status_code == 400, (page.status_code, page.headers.get("Location"))
    assert "Location" not in page.headers
    assert page.headers["Content-Type"].startswith("text/html")
    assert error in page.text


@pytest.mark.parametrize("params,error", ERRORS)
def test_an_operator_client_still_gets_its_errors_by_redirect(daemon, params, error):
    """RFC 6749 §4.1.2.1 for the clients the operator vetted."""
    c = daemon.add_client("operator-app", redirect_uris=["https://app.example.com/cb"])
    r = authorize(daemon, c.client_id, "https://app.example.com/cb", **params)
    assert r.status_code in (302, 303), (r.status_code, r.text[:200])
    q = query_of(r.headers["Location"])
    assert r.headers["Location"].startswith("https://app.example.com/cb?")
    assert q["error"] == error and q["state"] == "s1"


LOOKALIKES = [
    pytest.param("https://ch\u0430tgpt.com/aip/g-1/oauth/callback", id="cyrillic-a"),
    pytest.param("https://chatgpt.com/aip/g-1/\u202eoauth/callback", id="rtl-override"),
    pytest.param("https://chatgpt.com/aip/g-1/oauth/call\x01back", id="control-character"),
    pytest.param("https://chatgpt.com/aip/g-1/oauth/call back", id="space"),
    pytest.param("https://chatgpt.com/aip/g-1/oauth/callback\x7f", id="delete"),
    pytest.param("https://xn--chtgpt-7ve.com/cb\u00a0", id="nbsp"),
]


@pytest.mark.parametrize("uri", LOOKALIKES)
def test_register_refuses_a_redirect_uri_that_is_not_plain_ascii(daemon, uri):
    r = register(daemon, [uri])
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "invalid_redirect_uri"


@pytest.mark.parametrize("uri", LOOKALIKES)
def test_client_add_refuses_a_redirect_uri_that_is_not_plain_ascii(daemon, uri):
    r = daemon.run_cli("client", "add", "--name", "x", "--redirect-uri", uri)
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert "redirect URI" in r.stderr


DECEPTIVE_NAMES = [
    pytest.param("Notes\u202eppa.exe", id="rtl-override"),
    pytest.param("Notes\u2066x\u2069", id="isolate"),
    pytest.param("Notes\x1b[2K", id="escape"),
    pytest.param("Notes\napproved by the operator", id="newline"),
    pytest.param("Notes\u009b2J", id="c1-control"),
]


@pytest.mark.parametrize("name", DECEPTIVE_NAMES)
def test_register_refuses_a_client_name_with_controls_or_bidi_overrides(daemon, name):
    """The consent page shows client_name to the user: a U+202E there reverses
    the words that follow it (SPEC §3 /register)."""
    r = register(daemon, ["https://app.example.com/cb"], client_name=name)
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "invalid_client_metadata"
    assert "client_name" in r.json()["error_description"]


@pytest.mark.parametrize("name", DECEPTIVE_NAMES)
def test_client_add_refuses_a_name_with_controls_or_bidi_overrides(daemon, name):
    r = daemon.run_cli("client", "add", "--name", name, "--redirect-uri", "https://app.example.com/cb")
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)


def test_a_plain_non_ascii_client_name_is_registered_and_shown_as_is(daemon):
    r = register(daemon, ["https://app.example.com/cb"], client_name="Caf\u00e9 Notes \u65e5\u672c")
    assert r.status_code == 201, r.text
    page = authorize(daemon, r.json()["client_id"], "https://app.example.com/cb", scope="notes:read")
    assert page.status_code == 200, page.text[:300]
    assert "Caf\u00e9 Notes \u65e5\u672c" in page.text

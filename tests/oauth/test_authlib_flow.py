"""The whole authorization-code flow driven by authlib's OAuth2Session, a
client nobody here wrote: PKCE S256, client_secret_basic and
client_secret_post, a JSON token body as legacy ChatGPT plugins send it,
refresh, and a public client with auth method `none`."""

import urllib.parse

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session

from conftest import Browser, assert_oauth_error, query_of

TOKEN_FIELDS = {"access_token", "token_type", "expires_in", "refresh_token", "scope"}


def session_for(daemon, client, auth_method):
    return OAuth2Session(client.client_id, client.client_secret, scope="notes:read",
                         redirect_uri=client.redirect_uri, code_challenge_method="S256",
                         token_endpoint_auth_method=auth_method)


def run_authlib_flow(daemon, client, auth_method):
    """authorization URL (authlib) → sign-in + consent → fetch_token (authlib)."""
    oauth = session_for(daemon, client, auth_method)
    verifier = generate_token(48)
    url, state = oauth.create_authorization_url(daemon.url("/authorize"), code_verifier=verifier)
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    assert q["code_challenge_method"] == "S256" and q["code_challenge"]

    location = Browser(daemon).authorize(url)
    assert location.startswith(client.redirect_uri + "?"), location
    answer = query_of(location)
    assert answer["state"] == state
    assert answer["iss"] == daemon.issuer  # RFC 9207

    token = oauth.fetch_token(daemon.url("/token"), authorization_response=location, code_verifier=verifier)
    return oauth, token


def assert_token_response(token):
    assert TOKEN_FIELDS <= set(token), token
    assert token["token_type"].lower() == "bearer"
    assert token["expires_in"] == 900
    # requests-oauthlib hands the scope back as a list, authlib as the string.
    assert token["scope"] in ("notes:read", ["notes:read"])


@pytest.mark.parametrize("auth_method", ["client_secret_basic", "client_secret_post"])
def test_authlib_code_flow_with_pkce_issues_tokens_that_verify(daemon, client, auth_method):
    oauth, token = run_authlib_flow(daemon, client, auth_method)
    assert_token_response(token)

    v = daemon.verify(token["access_token"])
    assert v.status_code == 200, v.text
    assert v.headers["X-Auth-Type"] == "oauth"
    assert v.headers["X-Auth-Username"] == "alice"
    assert v.headers["X-Auth-Scope"] == "notes:read"
    assert v.headers["X-Auth-Client"] == client.client_id
    assert v.headers["X-Auth-Subject"].startswith("u_")


def test_token_response_carries_no_store(daemon, client):
    verifier = generate_token(48)
    oauth = session_for(daemon, client, "client_secret_basic")
    url, _ = oauth.create_authorization_url(daemon.url("/authorize"), code_verifier=verifier)
    code = query_of(Browser(daemon).authorize(url))["code"]
    r = daemon.token({"grant_type": "authorization_code", "code": code, "redirect_uri": client.redirect_uri,
                      "code_verifier": verifier}, auth=client.basic)
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "no-store"  # RFC 6749 §5.1
    assert r.headers["Content-Type"].startswith("application/json")


def test_json_token_body_gets_the_same_response_as_a_form_body(daemon, client):
    """Legacy ChatGPT plugins (authorization_content_type application/json) POST
    grant_type, client_id, client_secret, code, redirect_uri as JSON."""
    responses = []
    for as_json in (False, True):
        url = daemon.authorize_url(client, scope="notes:read")
        code = query_of(Browser(daemon).authorize(url))["code"]
        body = {"grant_type": "authorization_code", "client_id": client.client_id,
                "client_secret": client.client_secret, "code": code, "redirect_uri": client.redirect_uri}
        r = requests.post(daemon.url("/token"), json=body, timeout=10) if as_json else \
            requests.post(daemon.url("/token"), data=body, timeout=10)
        assert r.status_code == 200, (as_json, r.text)
        assert r.headers["Cache-Control"] == "no-store"
        assert r.headers["Content-Type"].startswith("application/json")
        responses.append(r.json())

    form, js = responses
    assert set(form) == set(js) == TOKEN_FIELDS
    for field in ("token_type", "expires_in", "scope"):
        assert form[field] == js[field], field
    assert form["token_type"] == "bearer"
    for t in (form, js):
        assert daemon.verify(t["access_token"]).status_code == 200


def test_authlib_refresh_rotates_the_refresh_token(daemon, client):
    oauth, token = run_authlib_flow(daemon, client, "client_secret_basic")
    first_refresh = token["refresh_token"]

    refreshed = oauth.refresh_token(daemon.url("/token"), refresh_token=first_refresh)
    assert_token_response(refreshed)
    assert refreshed["refresh_token"] != first_refresh
    assert refreshed["access_token"] != token["access_token"]
    v = daemon.verify(refreshed["access_token"])
    assert v.status_code == 200 and v.headers["X-Auth-Scope"] == "notes:read"

    again = oauth.refresh_token(daemon.url("/token"), refresh_token=refreshed["refresh_token"])
    assert_token_response(again)
    assert again["refresh_token"] not in (first_refresh, refreshed["refresh_token"])


def test_public_client_with_pkce_and_auth_method_none(daemon):
    public = daemon.add_client("cli-app", public=True)
    assert public.client_secret is None
    oauth = OAuth2Session(public.client_id, scope="notes:read", redirect_uri=public.redirect_uri,
                          code_challenge_method="S256", token_endpoint_auth_method="none")
    verifier = generate_token(48)
    url, state = oauth.create_authorization_url(daemon.url("/authorize"), code_verifier=verifier)
    location = Browser(daemon).authorize(url)
    assert query_of(location)["state"] == state

    token = oauth.fetch_token(daemon.url("/token"), authorization_response=location, code_verifier=verifier)
    assert_token_response(token)
    assert daemon.verify(token["access_token"]).status_code == 200

    refreshed = oauth.refresh_token(daemon.url("/token"), refresh_token=token["refresh_token"])
    assert_token_response(refreshed)
    assert daemon.verify(refreshed["access_token"]).status_code == 200


def test_metadata_advertises_what_the_flow_uses(daemon):
    """RFC 8414 discovery, as authlib-based clients read it."""
    r = requests.get(daemon.url("/.well-known/oauth-authorization-server"), timeout=10)
    assert r.status_code == 200
    m = r.json()
    assert m["issuer"] == daemon.issuer
    assert m["authorization_endpoint"] == daemon.issuer + "/authorize"
    assert m["token_endpoint"] == daemon.issuer + "/token"
    assert m["jwks_uri"] == daemon.issuer + "/.well-known/jwks.json"
    assert m["revocation_endpoint"] == daemon.issuer + "/revoke"
    assert m["introspection_endpoint"] == daemon.issuer + "/introspect"
    assert m["response_types_supported"] == ["code"]
    assert m["code_challenge_methods_supported"] == ["S256"]
    assert set(m["grant_types_supported"]) >= {"authorization_code", "refresh_token", "client_credentials"}
    assert set(m["token_endpoint_auth_methods_supported"]) >= {"client_secret_basic", "client_secret_post", "none"}
    assert set(m["scopes_supported"]) >= {"notes:read", "notes:write"}
    assert m["authorization_response_iss_parameter_supported"] is True


def test_deny_returns_access_denied_with_state(daemon, client):
    url = daemon.authorize_url(client, state="s-123")
    location = Browser(daemon).authorize(url, action="deny")
    assert location.startswith(client.redirect_uri + "?")
    q = query_of(location)
    assert q["error"] == "access_denied"
    assert q["state"] == "s-123"
    assert "code" not in q


def test_introspect_and_revoke(daemon, client, obtain):
    token = obtain(client)
    r = requests.post(daemon.url("/introspect"), data={"token": token["access_token"]}, auth=client.basic,
                      timeout=10)
    assert r.status_code == 200
    assert r.json()["active"] is True and r.json()["client_id"] == client.client_id

    r = requests.post(daemon.url("/revoke"), data={"token": token["refresh_token"],
                                                   "token_type_hint": "refresh_token"},
                      auth=client.basic, timeout=10)
    assert r.status_code == 200
    # RFC 7009 §2.1 / SPEC §8.13: revoking the refresh token revokes its grant.
    r = requests.post(daemon.url("/introspect"), data={"token": token["refresh_token"]}, auth=client.basic,
                      timeout=10)
    assert r.json() == {"active": False}
    r = daemon.token({"grant_type": "refresh_token", "refresh_token": token["refresh_token"]}, auth=client.basic)
    assert_oauth_error(r, 400, "invalid_grant")


def test_requests_oauthlib_confidential_flow_without_pkce(daemon, client, monkeypatch):
    """GPT Actions style: a confidential client, no PKCE, secret in the POST body."""
    from requests_oauthlib import OAuth2Session as OAuthlibSession

    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the test issuer is http on loopback
    oauth = OAuthlibSession(client.client_id, redirect_uri=client.redirect_uri, scope=["notes:read"])
    url, state = oauth.authorization_url(daemon.url("/authorize"))
    location = Browser(daemon).authorize(url)
    assert query_of(location)["state"] == state
    token = oauth.fetch_token(daemon.url("/token"), authorization_response=location,
                              client_secret=client.client_secret, include_client_id=True)
    assert_token_response(token)
    assert daemon.verify(token["access_token"]).status_code == 200
    refreshed = oauth.refresh_token(daemon.url("/token"), refresh_token=token["refresh_token"],
                                    client_id=client.client_id, client_secret=client.client_secret)
    assert_token_response(refreshed)
    assert refreshed["refresh_token"] != token["refresh_token"]

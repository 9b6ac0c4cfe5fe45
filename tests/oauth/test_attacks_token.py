"""The attack list, /token side: codes bound to client, redirect URI and
time; client authentication; request bodies (SPEC §8.2, §8.11; RFC 6749
§4.1.3, §5.2)."""

import base64
import http.client
import json

import requests

from conftest import Browser, assert_oauth_error, free_port, query_of


def code_for(daemon, client, redirect_uri=None):
    url = daemon.authorize_url(client, redirect_uri=redirect_uri)
    return query_of(Browser(daemon).authorize(url))["code"]


def code_grant(client, code, redirect_uri=None):
    return {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri or client.redirect_uri}


def test_code_presented_by_another_client_is_invalid_grant(daemon, client):
    other = daemon.add_client("other-app")
    code = code_for(daemon, client)
    for redirect_uri in (client.redirect_uri, other.redirect_uri):
        r = daemon.token(code_grant(other, code, redirect_uri), auth=other.basic)
        assert_oauth_error(r, 400, "invalid_grant")


def test_code_with_another_redirect_uri_is_invalid_grant(daemon):
    first, second = (f"http://127.0.0.1:{free_port()}/cb{i}" for i in (1, 2))
    c = daemon.add_client("two-uris", redirect_uris=[first, second])
    code = code_for(daemon, c, redirect_uri=first)
    assert_oauth_error(daemon.token(code_grant(c, code, second), auth=c.basic), 400, "invalid_grant")
    # RFC 6749 §4.1.3: required when the authorization request had one.
    r = daemon.token({"grant_type": "authorization_code", "code": code}, auth=c.basic)
    assert_oauth_error(r, 400, "invalid_grant")


def test_code_expires_after_sixty_seconds(daemon, client):
    # The offset counts from real time, and the exchange comes some real time
    # after the code was issued (seconds on a loaded machine under ASan):
    # "just before" keeps a margin that load cannot use up.
    code = code_for(daemon, client)
    daemon.advance(50)
    assert daemon.token(code_grant(client, code), auth=client.basic).status_code == 200

    daemon.advance(0)
    code = code_for(daemon, client)
    daemon.advance(61)
    assert_oauth_error(daemon.token(code_grant(client, code), auth=client.basic), 400, "invalid_grant")


def test_bad_client_secret_is_401_invalid_client_with_basic_challenge(daemon, client):
    code = code_for(daemon, client)
    bad = client.client_secret[:-4] + ("AAAA" if not client.client_secret.endswith("AAAA") else "BBBB")

    r = daemon.token(code_grant(client, code), auth=(client.client_id, bad))
    assert_oauth_error(r, 401, "invalid_client")
    assert r.headers["WWW-Authenticate"].startswith("Basic "), r.headers["WWW-Authenticate"]

    r = daemon.token(dict(code_grant(client, code), client_id=client.client_id, client_secret=bad))
    assert_oauth_error(r, 401, "invalid_client")

    r = daemon.token(code_grant(client, code), auth=("cl_" + "0" * 24, client.client_secret))
    assert_oauth_error(r, 401, "invalid_client")

    # A confidential client may not fall back to `none`.
    r = daemon.token(dict(code_grant(client, code), client_id=client.client_id))
    assert_oauth_error(r, 401, "invalid_client")

    # The code was not consumed by any of that.
    assert daemon.token(code_grant(client, code), auth=client.basic).status_code == 200


def test_body_that_is_neither_form_nor_json_is_invalid_request(daemon, client):
    r = daemon.token(data="grant_type=client_credentials", auth=client.basic,
                     headers={"Content-Type": "text/plain"})
    assert_oauth_error(r, 400, "invalid_request")


def test_malformed_json_body_is_invalid_request(daemon, client):
    for body in ('{"grant_type": "client_credentials"', "[1, 2]", '"grant_type"', "{'a': 1}"):
        r = daemon.token(data=body, auth=client.basic, headers={"Content-Type": "application/json"})
        assert_oauth_error(r, 400, "invalid_request")


def test_repeated_form_parameter_is_invalid_request(daemon, client):
    """RFC 6749 §3.2: request parameters must not be included more than once."""
    code = code_for(daemon, client)
    body = [("grant_type", "authorization_code"), ("code", code), ("code", code),
            ("redirect_uri", client.redirect_uri)]
    assert_oauth_error(daemon.token(body, auth=client.basic), 400, "invalid_request")
    body = [("grant_type", "client_credentials"), ("grant_type", "client_credentials")]
    assert_oauth_error(daemon.token(body, auth=client.basic), 400, "invalid_request")


def raw_post(daemon, path, fields, body):
    """A POST with the given header field lines, repeated names included
    (requests folds a dict into one field per name)."""
    conn = http.client.HTTPConnection("127.0.0.1", daemon.port, timeout=10)
    try:
        conn.putrequest("POST", path)
        conn.putheader("Content-Length", str(len(body)))
        for name, value in fields:
            conn.putheader(name, value)
        conn.endheaders(body.encode())
        r = conn.getresponse()
        return r.status, json.loads(r.read() or b"{}")
    finally:
        conn.close()


def test_a_repeated_authorization_or_content_type_field_is_invalid_request(daemon, client):
    """Which of two fields httplib hands back is chance (its header map keeps
    no order among them), and a proxy may read the other: refused."""
    basic = "Basic " + base64.b64encode(f"{client.client_id}:{client.client_secret}".encode()).decode()
    form = ("Content-Type", "application/x-www-form-urlencoded")
    body = "grant_type=client_credentials&scope=notes"
    for path in ("/token", "/revoke", "/introspect"):
        status, doc = raw_post(daemon, path, [form, ("Authorization", basic), ("Authorization", basic)], body)
        assert (status, doc.get("error")) == (400, "invalid_request"), (path, status, doc)
        assert "Authorization" in doc["error_description"]
        status, doc = raw_post(daemon, path, [form, ("Content-Type", "application/json"), ("Authorization", basic)],
                               body)
        assert (status, doc.get("error")) == (400, "invalid_request"), (path, status, doc)
        assert "Content-Type" in doc["error_description"]
    status, doc = raw_post(daemon, "/register", [("Content-Type", "application/json"), ("Authorization", "Bearer a"),
                                                 ("Authorization", "Bearer b")], '{"redirect_uris": ["https://a.example/cb"]}')
    assert (status, doc.get("error")) == (400, "invalid_request"), (status, doc)
    # One of each is read: the client authenticates (this client may not use
    # the grant, which is a later and different refusal).
    status, doc = raw_post(daemon, "/introspect", [form, ("Authorization", basic)], "token=x")
    assert (status, doc) == (200, {"active": False}), (status, doc)


def test_grant_type_errors(daemon, client):
    assert_oauth_error(daemon.token({"grant_type": "password", "username": "alice", "password": "x"},
                                    auth=client.basic), 400, "unsupported_grant_type")
    assert_oauth_error(daemon.token({"code": "x"}, auth=client.basic), 400, "invalid_request")
    assert_oauth_error(daemon.token({"grant_type": "authorization_code", "code": "not-a-code",
                                     "redirect_uri": client.redirect_uri}, auth=client.basic),
                       400, "invalid_grant")


def test_error_responses_are_not_cached(daemon, client):
    r = daemon.token({"grant_type": "authorization_code", "code": "x", "redirect_uri": client.redirect_uri},
                     auth=client.basic)
    assert r.status_code == 400
    assert r.headers["Cache-Control"] == "no-store"


def test_oversized_or_garbage_token_requests_never_5xx(daemon, client):
    cases = [
        dict(data=b"\xff\xfe\x00garbage", headers={"Content-Type": "application/x-www-form-urlencoded"}),
        dict(data="%zz=%", headers={"Content-Type": "application/x-www-form-urlencoded"}),
        dict(data='{"grant_type": ["a", "b"]}', headers={"Content-Type": "application/json"}),
        dict(data='{"grant_type": null}', headers={"Content-Type": "application/json"}),
        dict(data="", headers={"Content-Type": "application/json"}),
    ]
    for case in cases:
        r = requests.post(daemon.url("/token"), auth=client.basic, timeout=10, **case)
        assert 400 <= r.status_code < 500, (case, r.status_code, r.text)


def test_ten_bad_client_secrets_then_the_right_one_is_429_with_retry_after(daemon, client):
    """SPEC §8.9: throttled per client, even with the right secret."""
    grant = {"grant_type": "client_credentials"}
    for i in range(10):
        assert_oauth_error(daemon.token(grant, auth=(client.client_id, f"pac_wrong_{i}")), 401, "invalid_client")
    r = daemon.token(grant, auth=client.basic)
    assert r.status_code == 429, (r.status_code, r.text)
    assert int(r.headers["Retry-After"]) > 0
    assert "access_token" not in r.json()

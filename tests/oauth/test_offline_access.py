"""Issue 21 (SPEC §4): assistants stay connected. `offline_access` is listed
in the authorization server's metadata and granted to clients with the
refresh_token grant, named in the token response's `scope` and never an API
permission; a refresh without `resource` keeps the grant's audience, and a
refused refresh never consumes its refresh token."""

import base64
import json
import subprocess
import urllib.parse

import pytest
import requests

from conftest import BINARY, SCOPES, Browser, Daemon, pkce_pair, query_of

MCP = "https://plugin.example.com/mcp"
OTHER = "https://other.example.com/api"


def claims_of(jwt):
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


@pytest.fixture
def mcp(tmp_path):
    d = Daemon(tmp_path, {"scopes": SCOPES, "resources": [{"uri": MCP, "scopes_supported": ["notes:read"]},
                                                          {"uri": OTHER}]})
    d.add_user("alice")
    d.cli("role", "add", "user", "--scope", "notes:read")
    d.start()
    try:
        yield d
    finally:
        d.stop()


def code_flow(daemon, client, scope, resource=MCP):
    verifier, challenge = pkce_pair()
    browser = Browser(daemon)
    url = daemon.authorize_url(client, scope=scope, challenge=challenge, resource=resource)
    consent = browser.sign_in(url)
    assert consent.status_code == 200, consent.text
    location = browser.consent(consent)
    assert location.status_code == 303, location.text
    code = query_of(location.headers["Location"])["code"]
    r = daemon.token({"grant_type": "authorization_code", "code": code, "redirect_uri": client.redirect_uri,
                      "code_verifier": verifier, "resource": resource}, auth=client.basic)
    assert r.status_code == 200, r.text
    return consent, r.json()


def test_offline_access_is_advertised_by_the_authorization_server_only(mcp):
    meta = requests.get(mcp.url("/.well-known/oauth-authorization-server"), timeout=10).json()
    assert "offline_access" in meta["scopes_supported"], meta
    prm = requests.get(mcp.url("/.well-known/oauth-protected-resource/mcp"), timeout=10)
    assert prm.status_code == 200 and prm.json()["scopes_supported"] == ["notes:read"], prm.text
    for headers in ({"X-Original-URI": "/mcp"}, {"X-Original-URI": "/mcp", "Authorization": "Bearer x"}):
        challenge = requests.get(mcp.url("/verify"), headers=headers, params={"resource": MCP}, timeout=10)
        assert challenge.status_code == 401
        assert "offline_access" not in challenge.headers["WWW-Authenticate"], challenge.headers


def test_offline_access_is_granted_named_and_never_an_api_permission(mcp):
    client = mcp.add_client("chatgpt-app")
    consent, tokens = code_flow(mcp, client, "notes:read offline_access")
    assert 'id="stays-connected"' in consent.text
    assert set(tokens["scope"].split()) == {"notes:read", "offline_access"}, tokens
    assert tokens.get("refresh_token"), tokens
    assert claims_of(tokens["access_token"])["scope"] == "notes:read"
    v = mcp.verify(tokens["access_token"], uri="/mcp", resource=MCP)
    assert v.status_code == 200, v.text
    assert "offline_access" not in v.headers.get("X-Auth-Scope", ""), v.headers
    # Two refreshes, as a connector does; the second names the scope it was given.
    first = mcp.token({"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}, auth=client.basic)
    assert first.status_code == 200, first.text
    assert set(first.json()["scope"].split()) == {"notes:read", "offline_access"}
    second = mcp.token({"grant_type": "refresh_token", "refresh_token": first.json()["refresh_token"],
                        "scope": "notes:read offline_access"}, auth=client.basic)
    assert second.status_code == 200, second.text
    assert claims_of(second.json()["access_token"])["scope"] == "notes:read"


def test_offline_access_alone_is_a_request_that_names_no_api_scope(mcp):
    client = mcp.add_client("claude")
    _, tokens = code_flow(mcp, client, "offline_access")
    assert set(tokens["scope"].split()) == {"notes:read", "offline_access"}, tokens
    assert claims_of(tokens["access_token"])["scope"] == "notes:read"


def test_without_offline_access_the_consent_page_says_nothing_of_staying_connected(mcp):
    client = mcp.add_client("gpt-action")
    consent, tokens = code_flow(mcp, client, "notes:read")
    assert "stays-connected" not in consent.text
    assert tokens["scope"] == "notes:read"
    assert tokens.get("refresh_token"), "GPT Actions never ask for offline_access and still get refresh tokens"


def test_a_refresh_without_resource_keeps_the_audience_and_a_refused_one_consumes_nothing(mcp):
    client = mcp.add_client("mcp-client")
    _, tokens = code_flow(mcp, client, "notes:read offline_access")
    refresh = tokens["refresh_token"]
    # Refused: another resource, a wider scope, another client. The token survives each.
    other = mcp.add_client("other")
    for data, auth in [({"resource": OTHER}, client.basic), ({"scope": "notes:read notes:write"}, client.basic),
                       ({}, other.basic)]:
        r = mcp.token(dict(grant_type="refresh_token", refresh_token=refresh, **data), auth=auth)
        assert r.status_code in (400, 401), r.text
    r = mcp.token({"grant_type": "refresh_token", "refresh_token": refresh}, auth=client.basic)
    assert r.status_code == 200, r.text
    assert claims_of(r.json()["access_token"])["aud"] == MCP


def test_a_route_rule_or_a_resource_naming_offline_access_is_refused_at_start(tmp_path):
    for config in ({"scopes": SCOPES, "routes": [{"prefix": "/x", "scopes": ["offline_access"]}]},
                   {"scopes": SCOPES, "resources": [{"uri": MCP, "scopes_supported": ["offline_access"]}]}):
        root = tmp_path / str(len(list(tmp_path.iterdir())))
        root.mkdir()
        d = Daemon(root, config)
        r = subprocess.run([BINARY, "check", "--data", str(d.data)], capture_output=True, text=True, timeout=30)
        assert r.returncode != 0, r.stdout
        assert "offline_access" in r.stdout + r.stderr and "not an API permission" in r.stdout + r.stderr


def test_connector_presets_register_the_assistants_callbacks(mcp):
    info = mcp.cli("client", "add", "--name", "assistants", "--connector", "chatgpt", "--connector", "claude",
                   "--connector", "claude", "--public")
    assert info["redirect_uris"] == ["https://chatgpt.com/connector_platform_oauth_redirect",
                                     "https://claude.ai/api/mcp/auth_callback",
                                     "https://claude.com/api/mcp/auth_callback"], info
    r = mcp.run_cli("client", "add", "--name", "x", "--connector", "gemini")
    assert r.returncode != 0 and "--connector takes chatgpt or claude" in r.stderr, (r.stdout, r.stderr)
    # A Claude-shaped flow: public client, PKCE, resource, scope from the challenge plus offline_access.
    verifier, challenge = pkce_pair()
    browser = Browser(mcp)
    url = mcp.authorize_url(type("C", (), {"client_id": info["client_id"],
                                           "redirect_uri": "https://claude.ai/api/mcp/auth_callback"})(),
                            scope="notes:read offline_access", challenge=challenge, resource=MCP)
    location = browser.consent(browser.sign_in(url))
    assert location.status_code == 303, location.text
    assert location.headers["Location"].startswith("https://claude.ai/api/mcp/auth_callback?")
    code = query_of(location.headers["Location"])["code"]
    r = mcp.token({"grant_type": "authorization_code", "code": code, "client_id": info["client_id"],
                   "redirect_uri": "https://claude.ai/api/mcp/auth_callback", "code_verifier": verifier,
                   "resource": MCP})
    assert r.status_code == 200, r.text
    assert set(r.json()["scope"].split()) == {"notes:read", "offline_access"} and r.json().get("refresh_token")


def test_a_chatgpt_apps_shaped_flow_with_a_client_id_metadata_document(tmp_path):
    """As ChatGPT apps connect: the client_id is the https URL of its metadata
    document (here served by this suite on loopback), the redirect URI the
    stable connector callback, no client secret, S256, resource on authorize
    and token, scope = the resource's scopes + offline_access."""
    from test_metadata_fetch import LoopbackServer, read_request

    certs = tmp_path / "tls"
    certs.mkdir()
    cert, key = certs / "cert.pem", certs / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    callback = "https://chatgpt.com/connector_platform_oauth_redirect"
    holder = {}

    def serve(conn):
        read_request(conn)
        body = json.dumps({"client_id": holder["url"], "client_name": "ChatGPT", "redirect_uris": [callback],
                           "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
                           "token_endpoint_auth_method": "none"}).encode()
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                     b"Connection: close\r\n\r\n" % len(body) + body)

    server = LoopbackServer(serve, tls=(cert, key))
    holder["url"] = server.url("/oauth/abc123/client.json")
    root = tmp_path / "daemon"
    root.mkdir()
    d = Daemon(root, {"scopes": SCOPES, "resources": [{"uri": MCP, "scopes_supported": ["notes:read"]}],
                      "cimd_allow_private": True, "extra_ca_file": str(cert)})
    d.add_user("alice")
    d.cli("role", "add", "user", "--scope", "notes:read")
    d.start()
    try:
        verifier, challenge = pkce_pair()
        client = type("C", (), {"client_id": holder["url"], "redirect_uri": callback})()
        browser = Browser(d)
        url = d.authorize_url(client, scope="notes:read offline_access", challenge=challenge, resource=MCP,
                              state="chatgpt-state")
        consent = browser.sign_in(url)
        assert consent.status_code == 200 and 'id="stays-connected"' in consent.text, consent.text
        answer = browser.consent(consent)
        assert answer.status_code == 303, answer.text
        q = query_of(answer.headers["Location"])
        assert answer.headers["Location"].startswith(callback + "?")
        assert q["state"] == "chatgpt-state" and q["iss"] == d.issuer, q
        r = d.token({"grant_type": "authorization_code", "code": q["code"], "client_id": holder["url"],
                     "redirect_uri": callback, "code_verifier": verifier, "resource": MCP})
        assert r.status_code == 200, r.text
        tokens = r.json()
        assert set(tokens["scope"].split()) == {"notes:read", "offline_access"} and tokens["refresh_token"]
        for _ in range(2):
            r = d.token({"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
                         "client_id": holder["url"], "resource": MCP})
            assert r.status_code == 200, r.text
            tokens = r.json()
            assert set(tokens["scope"].split()) == {"notes:read", "offline_access"}
        v = d.verify(tokens["access_token"], uri="/mcp", resource=MCP)
        assert v.status_code == 200, v.text
        assert v.headers["X-Auth-Scope"] == "notes:read", v.headers
    finally:
        d.stop()
        server.stopping = True
        server.sock.close()


def test_client_update_adds_the_connector_callbacks_to_a_client_you_created(mcp):
    client = mcp.add_client("plugin")
    out = mcp.cli("client", "update", client.client_id, "--add-connector", "claude", "--add-connector", "chatgpt")
    assert out["redirect_uris"] == [client.redirect_uri, "https://claude.ai/api/mcp/auth_callback",
                                    "https://claude.com/api/mcp/auth_callback",
                                    "https://chatgpt.com/connector_platform_oauth_redirect"], out
    # Again: nothing is added twice.
    again = mcp.cli("client", "update", client.client_id, "--add-connector", "claude")
    assert again["redirect_uris"] == out["redirect_uris"]
    assert mcp.cli("client", "show", client.client_id)["redirect_uris"] == out["redirect_uris"]
    bad = mcp.run_cli("client", "update", client.client_id, "--add-redirect-uri", "http://evil.example/cb")
    assert bad.returncode != 0, bad.stdout
    # A client that registered itself keeps its own redirect URIs.
    r = requests.post(mcp.url("/register"), json={"redirect_uris": ["https://app.example.com/cb"]}, timeout=10)
    assert r.status_code == 201, r.text
    theirs = mcp.run_cli("client", "update", r.json()["client_id"], "--add-connector", "chatgpt")
    assert theirs.returncode != 0 and "registered itself" in theirs.stderr, (theirs.stdout, theirs.stderr)


def test_a_code_sent_to_a_redirect_uri_the_operator_then_removes_is_refused(mcp):
    """The operator finds a wrong callback and removes it: a code already
    delivered there ends with it (the token request is invalid_grant)."""
    client = mcp.add_client("moving")
    verifier, challenge = pkce_pair()
    browser = Browser(mcp)
    consent = browser.sign_in(mcp.authorize_url(client, scope="notes:read", challenge=challenge, resource=MCP))
    location = browser.consent(consent)
    assert location.status_code == 303, location.text
    code = query_of(location.headers["Location"])["code"]
    mcp.cli("client", "update", client.client_id, "--add-redirect-uri", "https://right.example/cb",
            "--remove-redirect-uri", client.redirect_uri)
    r = mcp.token({"grant_type": "authorization_code", "code": code, "redirect_uri": client.redirect_uri,
                   "code_verifier": verifier, "resource": MCP}, auth=client.basic)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant", r.text
    assert "no longer registered" in r.json()["error_description"]
    # A code whose request named no redirect_uri went to the client's only
    # URI: removing that URI ends it too (attacker review: it was exchanged).
    moving = mcp.add_client("moving-quietly")
    verifier2, challenge2 = pkce_pair()
    browser2 = Browser(mcp)
    url = mcp.authorize_url(moving, scope="notes:read", challenge=challenge2, resource=MCP)
    url = url.replace("redirect_uri=" + urllib.parse.quote(moving.redirect_uri, safe="") + "&", "")
    assert "redirect_uri" not in url, url
    location2 = browser2.consent(browser2.sign_in(url))
    assert location2.headers["Location"].startswith(moving.redirect_uri), location2.headers
    code2 = query_of(location2.headers["Location"])["code"]
    mcp.cli("client", "update", moving.client_id, "--add-redirect-uri", "https://right.example/cb",
            "--remove-redirect-uri", moving.redirect_uri)
    for form in ({}, {"redirect_uri": moving.redirect_uri}):
        r = mcp.token({"grant_type": "authorization_code", "code": code2, "code_verifier": verifier2,
                       "resource": MCP, **form}, auth=moving.basic)
        assert r.status_code == 400 and r.json()["error"] == "invalid_grant", r.text
    # /authorize refuses the removed URI too, and names it in the audit log.
    page = requests.get(mcp.authorize_url(client, scope="notes:read", challenge=challenge, resource=MCP),
                        timeout=10, allow_redirects=False)
    assert page.status_code == 400, page.text


def test_a_refresh_that_asks_for_offline_access_of_a_grant_without_it_is_not_refused(mcp):
    """A grant made without offline_access (before the client asked, or before
    plugauth listed it) keeps refreshing when the client now names it: a
    refused refresh would log the user out."""
    client = mcp.add_client("upgraded-client")
    _, tokens = code_flow(mcp, client, "notes:read")
    assert tokens["scope"] == "notes:read"
    r = mcp.token({"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
                   "scope": "notes:read offline_access"}, auth=client.basic)
    assert r.status_code == 200, r.text
    assert set(r.json()["scope"].split()) == {"notes:read", "offline_access"}
    assert claims_of(r.json()["access_token"])["scope"] == "notes:read"
    # Still no widening of the API scopes.
    r2 = mcp.token({"grant_type": "refresh_token", "refresh_token": r.json()["refresh_token"],
                    "scope": "notes:read notes:write offline_access"}, auth=client.basic)
    assert r2.status_code == 400 and r2.json()["error"] == "invalid_scope", r2.text


def test_a_claude_shaped_flow_registers_itself_and_takes_the_scope_from_the_challenge(mcp):
    """As Claude connects: the MCP server's 401 (here /verify's challenge, which
    the proxy passes on) leads to the scope; the client registers itself, adds
    offline_access because the authorization server's metadata lists it, and
    runs the code flow as a public client with PKCE and resource."""
    callback = "https://claude.ai/api/mcp/auth_callback"
    challenge = requests.get(mcp.url("/verify"), headers={"X-Original-URI": "/mcp"}, params={"resource": MCP},
                             timeout=10)
    assert challenge.status_code == 401
    header = challenge.headers["WWW-Authenticate"]
    params = {k: v.strip('"') for k, v in (p.strip().split("=", 1) for p in header[len("Bearer "):].split(", "))}
    # As the MCP SDK chooses (SEP-835): the challenge's scope, else the
    # protected resource's scopes_supported (its metadata is named in the challenge).
    prm = requests.get(params["resource_metadata"], timeout=10).json()
    scope = params.get("scope") or " ".join(prm["scopes_supported"])
    assert scope == "notes:read", (header, prm)
    meta = requests.get(mcp.url("/.well-known/oauth-authorization-server"), timeout=10).json()
    if "offline_access" in meta["scopes_supported"]:
        scope += " offline_access"
    assert scope == "notes:read offline_access"
    reg = requests.post(mcp.url("/register"), json={"client_name": "Claude", "redirect_uris": [callback],
                                                    "grant_types": ["authorization_code", "refresh_token"],
                                                    "token_endpoint_auth_method": "none"}, timeout=10)
    assert reg.status_code == 201, reg.text
    client_id = reg.json()["client_id"]
    verifier, pkce = pkce_pair()
    browser = Browser(mcp)
    url = mcp.authorize_url(type("C", (), {"client_id": client_id, "redirect_uri": callback})(), scope=scope,
                            challenge=pkce, resource=MCP)
    consent = browser.sign_in(url)
    assert 'id="stays-connected"' in consent.text, consent.text
    answer = browser.consent(consent)
    assert answer.status_code == 303 and answer.headers["Location"].startswith(callback + "?"), answer.text
    code = query_of(answer.headers["Location"])["code"]
    r = mcp.token({"grant_type": "authorization_code", "code": code, "client_id": client_id, "redirect_uri": callback,
                   "code_verifier": verifier, "resource": MCP})
    assert r.status_code == 200, r.text
    assert set(r.json()["scope"].split()) == {"notes:read", "offline_access"} and r.json()["refresh_token"]
    refreshed = mcp.token({"grant_type": "refresh_token", "refresh_token": r.json()["refresh_token"],
                           "client_id": client_id})
    assert refreshed.status_code == 200, refreshed.text
    assert claims_of(refreshed.json()["access_token"])["aud"] == MCP


def test_offline_access_cannot_be_given_as_an_api_permission(mcp):
    """Attacker review: a client_credentials client, a service key or a role
    given offline_access put it in access tokens, X-Auth-Scope and the
    protected resource's metadata. It is refused wherever API scopes are set."""
    for args in (["client", "add", "--name", "cc", "--grant", "client_credentials", "--scope", "offline_access"],
                 ["client", "add", "--name", "c2", "--redirect-uri", "https://a.example/cb", "--scope",
                  "notes:read offline_access"],
                 ["role", "add", "ops", "--scope", "offline_access notes:read"],
                 ["key", "create", "--service", "openai", "--scope", "offline_access"]):
        r = mcp.run_cli(*args)
        assert r.returncode != 0 and "not an API permission" in r.stderr, (args, r.stdout, r.stderr)
    client = mcp.add_client("plugin")
    r = mcp.run_cli("client", "set-scope", client.client_id, "offline_access")
    assert r.returncode != 0 and "not an API permission" in r.stderr, (r.stdout, r.stderr)
    prm = requests.get(mcp.url("/.well-known/oauth-protected-resource/mcp"), timeout=10).json()
    assert "offline_access" not in prm["scopes_supported"]

"""Issue 18 item 2: only the token's own client, or a resource server created
with `plugauth client add … --introspect`, learns anything from /introspect;
every other authenticated caller gets {"active": false}, the very answer for
a token that does not exist. API keys and the service token are introspected
only by resource servers (SPEC §3 /introspect, §4; RFC 7662 §2.2, §4)."""

import pytest
import requests

from conftest import assert_oauth_error, free_port

INACTIVE = {"active": False}


def introspect(daemon, caller, token):
    r = requests.post(daemon.url("/introspect"), data={"token": token}, auth=caller, timeout=10)
    assert r.status_code == 200, (r.status_code, r.text)
    assert r.headers.get("Cache-Control") == "no-store"
    return r


@pytest.fixture
def world(daemon, client, obtain):
    """The token's own client (`client`) with a refresh and an access token
    of alice's, a user API key, a service token, and the possible callers."""
    tokens = obtain(client)
    w = {
        "refresh": tokens["refresh_token"],
        "access": tokens["access_token"],
        "api_key": daemon.cli("key", "create", "--user", "alice", "--name", "laptop")["key"],
        "service": daemon.cli("key", "create", "--service", "billing")["key"],
    }
    # A stranger: a client that registered itself a minute ago, asking (for
    # what it is worth) to be allowed to introspect.
    r = requests.post(daemon.url("/register"), timeout=10,
                      json={"redirect_uris": [f"http://127.0.0.1:{free_port()}/cb"], "client_name": "stranger",
                            "introspect": True, "scope": "introspect"})
    assert r.status_code == 201, r.text
    assert "introspect" not in r.json() or r.json()["introspect"] is not True
    w["stranger"] = (r.json()["client_id"], r.json()["client_secret"])
    w["operator"] = daemon.add_client("other-app").basic
    w["own"] = client.basic
    rs = daemon.cli("client", "add", "--name", "notes-api", "--introspect")
    assert rs["introspect"] is True
    assert "client_secret" in rs and rs["redirect_uris"] == []
    w["resource_server"] = (rs["client_id"], rs["client_secret"])
    return w


TOKENS = ["refresh", "access", "api_key", "service"]


@pytest.mark.parametrize("token", TOKENS)
def test_a_self_registered_client_learns_nothing_from_introspection(daemon, world, token):
    r = introspect(daemon, world["stranger"], world[token])
    assert r.json() == INACTIVE
    # Word for word the answer for a token that does not exist.
    assert r.text == introspect(daemon, world["stranger"], "no-such-token").text


@pytest.mark.parametrize("token", TOKENS)
def test_an_operator_client_without_introspect_learns_nothing_about_others_tokens(daemon, world, token):
    r = introspect(daemon, world["operator"], world[token])
    assert r.json() == INACTIVE
    assert r.text == introspect(daemon, world["operator"], "no-such-token").text


def test_the_tokens_own_client_learns_about_its_refresh_and_access_tokens(daemon, world, client):
    refresh = introspect(daemon, world["own"], world["refresh"]).json()
    assert refresh["active"] is True and refresh["client_id"] == client.client_id
    assert refresh["token_type"] == "refresh_token" and refresh["username"] == "alice"
    access = introspect(daemon, world["own"], world["access"]).json()
    assert access["active"] is True and access["client_id"] == client.client_id
    assert access["token_type"] == "access_token" and access["username"] == "alice"


@pytest.mark.parametrize("token", ["api_key", "service"])
def test_api_keys_and_the_service_token_are_not_any_clients_own(daemon, world, token):
    r = introspect(daemon, world["own"], world[token])
    assert r.json() == INACTIVE


def test_a_resource_server_introspects_every_token(daemon, world, client):
    rs = world["resource_server"]
    refresh = introspect(daemon, rs, world["refresh"]).json()
    assert refresh["active"] is True and refresh["token_type"] == "refresh_token"
    assert refresh["client_id"] == client.client_id
    access = introspect(daemon, rs, world["access"]).json()
    assert access["active"] is True and access["type"] == "oauth" and access["scope"] == "notes:read"
    key = introspect(daemon, rs, world["api_key"]).json()
    assert key["active"] is True and key["type"] == "api_key" and key["username"] == "alice"
    service = introspect(daemon, rs, world["service"]).json()
    assert service["active"] is True and service["type"] == "service" and service["sub"] == "service:billing"
    # What it learns about a dead token is still nothing.
    assert introspect(daemon, rs, "no-such-token").json() == INACTIVE


def test_a_stranger_cannot_use_introspection_to_tell_live_tokens_from_revoked_ones(daemon, world, client):
    before = introspect(daemon, world["stranger"], world["refresh"]).text
    r = requests.post(daemon.url("/revoke"), data={"token": world["refresh"]}, auth=client.basic, timeout=10)
    assert r.status_code == 200
    after = introspect(daemon, world["stranger"], world["refresh"]).text
    assert before == after


def test_introspection_still_needs_client_authentication(daemon, world):
    r = requests.post(daemon.url("/introspect"), data={"token": world["access"]}, timeout=10)
    assert_oauth_error(r, 401, "invalid_client")
    r = requests.post(daemon.url("/introspect"), data={"token": world["access"]},
                      auth=(world["resource_server"][0], "pac_wrong"), timeout=10)
    assert_oauth_error(r, 401, "invalid_client")


def test_client_show_and_list_say_who_may_introspect(daemon, world, client):
    rs_id = world["resource_server"][0]
    assert daemon.cli("client", "show", rs_id)["introspect"] is True
    assert daemon.cli("client", "show", client.client_id)["introspect"] is False
    assert daemon.cli("client", "show", world["stranger"][0])["introspect"] is False
    listed = {c["client_id"]: c["introspect"] for c in daemon.cli("client", "list")["clients"]}
    assert listed[rs_id] is True
    assert listed[client.client_id] is False and listed[world["stranger"][0]] is False


def test_a_public_client_cannot_be_a_resource_server(daemon):
    r = daemon.run_cli("client", "add", "--name", "spa", "--public", "--introspect",
                       "--redirect-uri", f"http://127.0.0.1:{free_port()}/cb")
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert "--introspect" in r.stderr


def test_a_resource_server_gets_no_token_of_its_own(daemon, world):
    """--introspect alone gives no grant: it reads tokens, it does not mint them."""
    rs = world["resource_server"]
    r = daemon.token({"grant_type": "client_credentials"}, auth=rs)
    assert_oauth_error(r, 400, "unauthorized_client")

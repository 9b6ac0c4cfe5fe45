"""Issue 14 item 5 (SPEC §4): a service token created without --scope has
every known scope, and roles never apply to it: narrowing the `user` role
changes nothing for the service."""

from conftest import SCOPES, poll


def scopes_of(response):
    assert response.status_code == 200, (response.status_code, response.text)
    return set(response.headers["X-Auth-Scope"].split())


def test_a_service_token_without_scope_has_every_known_scope_and_never_follows_the_user_role(daemon):
    # The fixture's `user` role (alice's) has notes:read alone.
    service = daemon.cli("key", "create", "--service", "svc")["key"]
    alice = daemon.cli("key", "create", "--user", "alice")["key"]
    assert scopes_of(daemon.verify(alice)) == {"notes:read"}
    assert scopes_of(daemon.verify(service)) == set(SCOPES)
    daemon.cli("role", "add", "user", "--scope", "notes:write")
    # The user's key follows her role within a second ...
    assert poll(lambda: scopes_of(daemon.verify(alice)) == {"notes:write"})
    # ... the service token does not.
    assert scopes_of(daemon.verify(service)) == set(SCOPES)

"""Issue 4 acceptance 2 and 3: a replayed code revokes what it issued; a
rotated refresh token reused after the grace window revokes its family,
while a retry within the window gets the same successor (SPEC §8.2, §8.3,
§8.13; RFC 6749 §4.1.2, RFC 9700 §4.14.2)."""

from conftest import Browser, assert_invalid_token, assert_oauth_error, pkce_pair, query_of


def code_for(daemon, client, challenge=None):
    return query_of(Browser(daemon).authorize(daemon.authorize_url(client, challenge=challenge)))["code"]


def exchange(daemon, client, code, **extra):
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": client.redirect_uri, **extra}
    return daemon.token(data, auth=client.basic)


def refresh(daemon, client, refresh_token):
    return daemon.token({"grant_type": "refresh_token", "refresh_token": refresh_token}, auth=client.basic)


def test_replayed_code_is_refused_and_revokes_the_tokens_it_issued(daemon, client):
    verifier, challenge = pkce_pair()
    code = code_for(daemon, client, challenge)
    first = exchange(daemon, client, code, code_verifier=verifier)
    assert first.status_code == 200, first.text
    tokens = first.json()
    assert daemon.verify(tokens["access_token"]).status_code == 200

    replay = exchange(daemon, client, code, code_verifier=verifier)
    assert_oauth_error(replay, 400, "invalid_grant")

    assert_invalid_token(daemon.verify(tokens["access_token"]))
    assert_oauth_error(refresh(daemon, client, tokens["refresh_token"]), 400, "invalid_grant")


def test_replayed_code_in_a_json_body_is_refused_the_same_way(daemon, client):
    code = code_for(daemon, client)
    body = {"grant_type": "authorization_code", "client_id": client.client_id,
            "client_secret": client.client_secret, "code": code, "redirect_uri": client.redirect_uri}
    first = daemon.token(json_body=body)
    assert first.status_code == 200, first.text
    assert_oauth_error(daemon.token(json_body=body), 400, "invalid_grant")
    assert_invalid_token(daemon.verify(first.json()["access_token"]))


def test_retry_within_the_grace_window_returns_the_identical_successor(daemon, client, obtain):
    tokens = obtain(client)
    r1 = refresh(daemon, client, tokens["refresh_token"])
    assert r1.status_code == 200, r1.text
    successor = r1.json()["refresh_token"]

    daemon.advance(20)  # refresh_grace is 30 s; 10 s of margin for real time passing under load
    retry = refresh(daemon, client, tokens["refresh_token"])
    assert retry.status_code == 200, retry.text
    assert retry.json()["refresh_token"] == successor
    assert daemon.verify(retry.json()["access_token"]).status_code == 200

    # The family is intact: the successor still rotates.
    r2 = refresh(daemon, client, successor)
    assert r2.status_code == 200, r2.text
    assert r2.json()["refresh_token"] not in (successor, tokens["refresh_token"])


def test_reuse_after_the_grace_window_revokes_the_family(daemon, client, obtain):
    tokens = obtain(client)
    r1 = refresh(daemon, client, tokens["refresh_token"])
    assert r1.status_code == 200, r1.text
    newest = r1.json()
    assert daemon.verify(newest["access_token"]).status_code == 200

    daemon.advance(31)
    assert_oauth_error(refresh(daemon, client, tokens["refresh_token"]), 400, "invalid_grant")

    # The family's newest refresh token and access token are dead.
    assert_invalid_token(daemon.verify(newest["access_token"]))
    assert_invalid_token(daemon.verify(tokens["access_token"]))
    assert_oauth_error(refresh(daemon, client, newest["refresh_token"]), 400, "invalid_grant")


def test_reuse_of_an_older_token_within_the_window_is_still_reuse(daemon, client, obtain):
    """Only the *immediately previous* token gets the grace (SPEC §8.3)."""
    tokens = obtain(client)
    r1 = refresh(daemon, client, tokens["refresh_token"]).json()
    r2 = refresh(daemon, client, r1["refresh_token"]).json()
    assert daemon.verify(r2["access_token"]).status_code == 200

    assert_oauth_error(refresh(daemon, client, tokens["refresh_token"]), 400, "invalid_grant")
    assert_invalid_token(daemon.verify(r2["access_token"]))
    assert_oauth_error(refresh(daemon, client, r2["refresh_token"]), 400, "invalid_grant")


def test_replayed_code_revokes_tokens_refreshed_from_it_too(daemon, client):
    """SPEC §8.13: codes → refresh family → access tokens."""
    code = code_for(daemon, client)
    tokens = exchange(daemon, client, code).json()
    refreshed = refresh(daemon, client, tokens["refresh_token"])
    assert refreshed.status_code == 200, refreshed.text
    newest = refreshed.json()
    assert daemon.verify(newest["access_token"]).status_code == 200

    assert_oauth_error(exchange(daemon, client, code), 400, "invalid_grant")
    assert_invalid_token(daemon.verify(newest["access_token"]))
    assert_oauth_error(refresh(daemon, client, newest["refresh_token"]), 400, "invalid_grant")

"""Issue 4 acceptance 2 and 3, and issue 12 item 8: a replayed code revokes
what it issued; a rotated refresh token used again revokes its family,
except a retry of it that gets its own successor back, identical, while that
successor has never been used or within refresh_grace of the rotation
(SPEC §8.2, §8.3, §8.13; RFC 6749 §4.1.2, RFC 9700 §4.14.2). Time moves
through the daemon's clock offset, never by sleeping."""

import requests

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


def test_the_previous_token_retried_while_its_successor_is_unused_gets_the_same_successor(daemon, client, obtain):
    """A client that lost the answer is not logged out, however late it retries."""
    tokens = obtain(client)
    r1 = refresh(daemon, client, tokens["refresh_token"])
    assert r1.status_code == 200, r1.text
    first = r1.json()
    assert daemon.verify(first["access_token"]).status_code == 200  # using its access token is no refresh

    for offset in (31, 3600, 86400):  # long past refresh_grace
        daemon.advance(offset)
        retry = refresh(daemon, client, tokens["refresh_token"])
        assert retry.status_code == 200, (offset, retry.text)
        assert retry.json()["refresh_token"] == first["refresh_token"]
        assert daemon.verify(retry.json()["access_token"]).status_code == 200

    # SPEC §5: the successor handed out again was never kept in clear.
    secret_part = first["refresh_token"].split("_", 2)[2].encode()  # par_<id>_<secret>
    for name in ("plugauth.db", "plugauth.db-wal"):
        path = daemon.data / name
        assert not path.exists() or secret_part not in path.read_bytes(), name

    # Nothing was revoked: the successor rotates, once.
    r2 = refresh(daemon, client, first["refresh_token"])
    assert r2.status_code == 200, r2.text
    assert r2.json()["refresh_token"] not in (first["refresh_token"], tokens["refresh_token"])
    assert daemon.verify(r2.json()["access_token"]).status_code == 200


def test_the_previous_token_used_after_its_successor_was_used_revokes_the_family(daemon, client, obtain):
    """Outside refresh_grace, a token used after its successor is reuse."""
    tokens = obtain(client)
    r1 = refresh(daemon, client, tokens["refresh_token"]).json()
    r2 = refresh(daemon, client, r1["refresh_token"])
    assert r2.status_code == 200, r2.text
    newest = r2.json()
    assert daemon.verify(newest["access_token"]).status_code == 200

    daemon.advance(31)
    assert_oauth_error(refresh(daemon, client, tokens["refresh_token"]), 400, "invalid_grant")

    # Everything of the family is dead, the newest tokens too.
    assert_invalid_token(daemon.verify(newest["access_token"]))
    assert_oauth_error(refresh(daemon, client, newest["refresh_token"]), 400, "invalid_grant")
    assert_oauth_error(refresh(daemon, client, r1["refresh_token"]), 400, "invalid_grant")


def test_within_the_grace_a_retry_gets_its_own_successor_even_once_that_was_used(daemon, client, obtain):
    """Refreshing from two places at once (SPEC §8.3): the slower place, within
    refresh_grace, gets the successor the faster one got, never a later token,
    and from there catches up one step at a time."""
    tokens = obtain(client)
    fast1 = refresh(daemon, client, tokens["refresh_token"]).json()
    fast2 = refresh(daemon, client, fast1["refresh_token"]).json()

    daemon.advance(20)
    slow1 = refresh(daemon, client, tokens["refresh_token"])
    assert slow1.status_code == 200, slow1.text
    assert slow1.json()["refresh_token"] == fast1["refresh_token"]
    slow2 = refresh(daemon, client, slow1.json()["refresh_token"])
    assert slow2.status_code == 200, slow2.text
    assert slow2.json()["refresh_token"] == fast2["refresh_token"]
    assert daemon.verify(slow2.json()["access_token"]).status_code == 200
    assert daemon.verify(fast2["access_token"]).status_code == 200

    # The family goes on.
    r3 = refresh(daemon, client, fast2["refresh_token"])
    assert r3.status_code == 200, r3.text
    assert daemon.verify(r3.json()["access_token"]).status_code == 200


def test_a_retry_whose_successor_was_revoked_gets_nothing(daemon, client, obtain):
    tokens = obtain(client)
    r1 = refresh(daemon, client, tokens["refresh_token"]).json()
    revoke = requests.post(daemon.url("/revoke"), auth=client.basic, timeout=10,
                           data={"token": r1["refresh_token"], "token_type_hint": "refresh_token"})
    assert revoke.status_code == 200, revoke.text
    assert_oauth_error(refresh(daemon, client, tokens["refresh_token"]), 400, "invalid_grant")
    assert_invalid_token(daemon.verify(r1["access_token"]))


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

"""Issue 13 item 8 (SPEC §9 "Audit"): after a whole flow, `plugauth audit`
holds every token issued (by grant type), every refusal at /token, the
revocations (and revokes of nothing), introspections, refused registrations
and throttled client authentications."""

import requests

from conftest import poll


def actions(daemon):
    return [(e["action"], e) for e in daemon.cli("audit", "--limit", "1000")["events"]]


def wait_for(daemon, action, detail_part=""):
    def found():
        return [e for a, e in actions(daemon) if a == action and detail_part in e["detail"]]

    assert poll(found, timeout=3), [a for a, _ in actions(daemon)]
    return found()


def test_a_whole_flow_leaves_an_audit_event_for_every_step(daemon, client, obtain):
    tokens = obtain(client)
    issued = wait_for(daemon, "token_issued", "grant=authorization_code with a refresh token")
    assert issued[0]["client_id"] == client.client_id and issued[0]["subject"], issued

    refreshed = daemon.token({"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
                             auth=client.basic)
    assert refreshed.status_code == 200, refreshed.text
    wait_for(daemon, "token_issued", "grant=refresh_token")

    # The old refresh token again, from the same client: refused, and audited as refused.
    again = daemon.token({"grant_type": "refresh_token", "refresh_token": "par_made-up"}, auth=client.basic)
    assert again.status_code == 400
    refused = wait_for(daemon, "token_refused", "grant=refresh_token invalid_grant")
    assert refused[0]["status"] == 400, refused

    r = requests.post(daemon.url("/introspect"), data={"token": refreshed.json()["access_token"]},
                      auth=client.basic, timeout=10)
    assert r.status_code == 200 and r.json()["active"] is True, r.text
    wait_for(daemon, "introspection", "active")

    r = requests.post(daemon.url("/revoke"), data={"token": "made-up"}, auth=client.basic, timeout=10)
    assert r.status_code == 200
    wait_for(daemon, "revoke_of_nothing")
    r = requests.post(daemon.url("/revoke"), data={"token": refreshed.json()["refresh_token"]},
                      auth=client.basic, timeout=10)
    assert r.status_code == 200
    revoked = wait_for(daemon, "token_revoked")
    assert revoked[0]["client_id"] == client.client_id, revoked


def test_a_refused_registration_is_audited_with_its_reason(daemon):
    r = requests.post(daemon.url("/register"), json={"redirect_uris": ["http://evil.example/cb"]}, timeout=10)
    assert r.status_code == 400, r.text
    refused = wait_for(daemon, "client_registration_refused", "invalid_redirect_uri")
    assert refused[0]["client_ip"] == "127.0.0.1", refused


def test_an_unregistered_redirect_uri_at_authorize_is_audited_with_the_uri(daemon, client):
    """Issue 14 item 5: an operator fixing a client's callbacks sees the URI
    the assistant really sent (and the page still refuses it, no redirect)."""
    wrong = "https://chatgpt.com/aip/g-new-id/oauth/callback"
    r = requests.get(daemon.url("/authorize"), params={"client_id": client.client_id, "redirect_uri": wrong,
                                                      "response_type": "code", "state": "s"},
                     allow_redirects=False, timeout=10)
    assert r.status_code == 400, r.status_code
    refused = wait_for(daemon, "redirect_uri_refused", wrong)
    assert refused[0]["client_id"] == client.client_id, refused
    assert refused[0]["client_ip"] == "127.0.0.1", refused
    assert refused[0]["detail"] == "redirect_uri=" + wrong, refused
    # Bytes that are not printable ASCII are percent-encoded: the row stays
    # valid UTF-8 however the URI was cut (attacker review).
    odd = "https://e.example/" + "A" * 237 + "\u20ac\xff"
    requests.get(daemon.url("/authorize"), params={"client_id": client.client_id, "redirect_uri": odd,
                                                  "response_type": "code"}, allow_redirects=False, timeout=10)
    odd_row = wait_for(daemon, "redirect_uri_refused", "AAAA")
    assert odd_row[0]["detail"] == "redirect_uri=https://e.example/" + "A" * 237 + "%E2", odd_row


def test_refusals_of_a_revoked_key_keep_its_key_id_in_the_audit_row(daemon):
    """Issue 14 item 5: the operator who revoked a key can see who still
    sends it; a made-up key names no key."""
    created = daemon.cli("key", "create", "--service", "old-gpt")
    assert daemon.verify(created["key"]).status_code == 200
    daemon.cli("key", "revoke", created["key_id"])
    assert poll(lambda: daemon.verify(created["key"]).status_code == 401)
    refused = wait_for(daemon, "verify_failed", "key revoked")
    assert {e["key_id"] for e in refused} == {created["key_id"]}, refused


def test_throttled_client_authentication_is_audited(daemon, client):
    for _ in range(10):
        r = daemon.token({"grant_type": "client_credentials"}, auth=(client.client_id, "wrong secret"))
        assert r.status_code == 401, r.text
    r = daemon.token({"grant_type": "client_credentials"}, auth=client.basic)
    assert r.status_code == 429, r.text
    throttled = wait_for(daemon, "client_auth_throttled")
    assert throttled[0]["client_id"] == client.client_id, throttled


def metric(text, sample):
    for line in text.splitlines():
        if line.startswith(sample + " "):
            return float(line.split(" ")[1])
    return 0.0


def test_metrics_count_what_the_audit_log_records(daemon, client, obtain):
    """SPEC §9 "Metrics": the families beside /verify's, counted from the same
    events the audit log gets, so the two agree."""
    obtain(client)
    daemon.token({"grant_type": "refresh_token", "refresh_token": "par_made-up"}, auth=client.basic)
    requests.post(daemon.url("/register"), json={"redirect_uris": ["http://evil.example/cb"]}, timeout=10)
    for _ in range(10):
        daemon.token({"grant_type": "client_credentials"}, auth=(client.client_id, "wrong secret"))
    daemon.token({"grant_type": "client_credentials"}, auth=client.basic)
    text = requests.get(daemon.url("/metrics"), timeout=10).text
    for family in ("plugauth_token_requests_total", "plugauth_logins_total", "plugauth_throttled_total",
                   "plugauth_registrations_total", "plugauth_http_requests_total",
                   "plugauth_signing_key_age_seconds", "process_resident_memory_bytes",
                   "plugauth_audit_dropped_total"):
        assert f"# TYPE {family} " in text, family
    assert metric(text, 'plugauth_token_requests_total{grant="authorization_code",result="ok"}') == 1, text
    assert metric(text, 'plugauth_token_requests_total{grant="refresh_token",result="refused"}') == 1, text
    assert metric(text, 'plugauth_logins_total{result="ok"}') == 1, text
    assert metric(text, 'plugauth_registrations_total{result="refused"}') == 1, text
    assert metric(text, 'plugauth_throttled_total{endpoint="/token"}') == 1, text
    assert metric(text, 'plugauth_http_requests_total{route="/token",status="429"}') == 1, text
    assert metric(text, 'plugauth_http_requests_total{route="/register",status="400"}') == 1, text
    assert metric(text, "plugauth_signing_key_age_seconds") >= 0
    # A stranger's made-up paths add no series.
    requests.get(daemon.url("/made-up-1"), timeout=10)
    requests.get(daemon.url("/made-up-2"), timeout=10)
    text = requests.get(daemon.url("/metrics"), timeout=10).text
    assert "made-up" not in text
    assert metric(text, 'plugauth_http_requests_total{route="other",status="404"}') == 2, text

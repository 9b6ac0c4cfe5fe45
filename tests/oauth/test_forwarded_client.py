"""Issue 13, item 4 (SPEC §8.9): behind trusted_proxies the client is the
rightmost X-Forwarded-For address that is not a trusted proxy; throttling,
the audit log and the access log use it. From any other peer the header is
ignored."""

import http.client
import json

import requests

from conftest import SCOPES, Daemon, poll

BODY = {"redirect_uris": ["https://app.example.com/cb"], "client_name": "mcp"}


def register(daemon, forwarded_for):
    return requests.post(daemon.url("/register"), json=BODY, headers={"X-Forwarded-For": forwarded_for},
                         timeout=10)


def test_behind_a_trusted_proxy_the_registration_limit_is_per_client(daemon):
    # The daemon's peer is loopback, a trusted proxy by default.
    for _ in range(20):
        assert register(daemon, "203.0.113.1").status_code == 201
    assert register(daemon, "203.0.113.1").status_code == 429
    # Another client behind the same proxy is not held back by the first.
    assert register(daemon, "203.0.113.2").status_code == 201
    # A client that writes an address itself is still the one the proxy saw.
    assert register(daemon, "203.0.113.2, 203.0.113.1").status_code == 429
    assert register(daemon, "203.0.113.1, 203.0.113.2").status_code == 201


def test_the_audit_and_access_log_name_the_client_behind_the_proxy(daemon):
    assert register(daemon, "198.51.100.7").status_code == 201
    assert poll(lambda: daemon.cli("audit", "--action", "client_registered")["events"])
    events = daemon.cli("audit", "--action", "client_registered")["events"]
    assert events[0]["client_ip"] == "198.51.100.7", events
    assert poll(lambda: "POST /register 201" in daemon.log_text())
    line = next(l for l in daemon.log_text().splitlines() if "POST /register 201" in l)
    assert "198.51.100.7" in line, line


def test_x_forwarded_for_from_a_peer_that_is_not_a_trusted_proxy_is_ignored(tmp_path):
    d = Daemon(tmp_path, config={"scopes": SCOPES, "trusted_proxies": ["10.9.9.9"]})
    d.start()
    try:
        for i in range(20):
            assert register(d, f"203.0.113.{i + 1}").status_code == 201
        # Twenty "clients" were one: the peer.
        assert register(d, "203.0.113.99").status_code == 429
        events = d.cli("audit", "--action", "client_registered")["events"] if poll(
            lambda: d.cli("audit", "--action", "client_registered")["events"]) else []
        assert events and all(e["client_ip"] == "127.0.0.1" for e in events), events
    finally:
        d.stop()


def register_through_fields(daemon, *forwarded_for_fields):
    """One X-Forwarded-For field line per value, as a proxy that adds its own
    line after the client's sends them (HAProxy's `option forwardfor`)."""
    conn = http.client.HTTPConnection("127.0.0.1", daemon.port, timeout=10)
    try:
        body = json.dumps(BODY)
        conn.putrequest("POST", "/register")
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(len(body)))
        for value in forwarded_for_fields:
            conn.putheader("X-Forwarded-For", value)
        conn.endheaders(body.encode())
        return conn.getresponse().status
    finally:
        conn.close()


def test_several_x_forwarded_for_fields_are_read_in_request_order(daemon):
    # The client wrote the first line; the trusted proxy added the last. The
    # client is the proxy's entry, not the one the client chose (httplib's
    # header map gave the two back reversed: found by fuzz_plain_get).
    assert register_through_fields(daemon, "203.0.113.50", "198.51.100.60") == 201
    assert register_through_fields(daemon, "203.0.113.50, 203.0.113.51", "203.0.113.52",
                                   "198.51.100.61") == 201
    assert poll(lambda: len(daemon.cli("audit", "--action", "client_registered")["events"]) == 2)
    events = daemon.cli("audit", "--action", "client_registered")["events"]
    assert sorted(e["client_ip"] for e in events) == ["198.51.100.60", "198.51.100.61"], events

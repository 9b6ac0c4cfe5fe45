"""Issue 13 item 6: bounded input, answered (SPEC §8.10). A body up to 64 KiB
is read, a larger one is 413; a request line over 8 KiB is 414, a header line
over 8 KiB, more than 100 fields or a head over 64 KiB is 431 — each with a
true message, before the connection closes."""

import json

import requests

from test_smuggling import exchange


def body_of(received):
    return json.loads(received.split(b"\r\n\r\n", 1)[1])


def test_a_10_kb_form_body_is_read_not_refused_as_too_large(daemon):
    r = requests.post(daemon.url("/token"), data={"grant_type": "client_credentials", "pad": "x" * 10_000},
                      timeout=10)
    assert r.status_code != 413, r.text
    assert r.status_code in (400, 401), r.text


def test_a_body_over_64_kib_is_413_with_a_true_message(daemon):
    r = requests.post(daemon.url("/token"), data={"grant_type": "client_credentials", "pad": "x" * 70_000},
                      timeout=10)
    assert r.status_code == 413, r.text
    assert r.json()["error_description"] == "request body larger than 64 KiB"


def test_a_100_kb_request_line_is_answered_414_before_the_close(daemon):
    statuses, received, closed = exchange(daemon, b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert statuses == ["414"], received[:300]
    assert body_of(received)["error_description"] == "request line longer than 8 KiB"
    assert closed


def test_a_header_line_over_8_kib_is_431(daemon):
    statuses, received, closed = exchange(daemon, b"GET /healthz HTTP/1.1\r\nHost: x\r\nCookie: " +
                                          b"c" * 9000 + b"\r\n\r\n")
    assert statuses == ["431"], received[:300]
    assert body_of(received)["error_description"] == "a header line longer than 8 KiB"
    assert closed


def test_101_header_fields_are_431(daemon):
    head = b"GET /verify HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(101)) + b"\r\n"
    statuses, received, closed = exchange(daemon, head)
    assert statuses == ["431"], received[:300]
    assert closed


def test_a_head_over_64_kib_is_431_even_before_it_ends(daemon):
    head = b"GET /verify HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: %s\r\n" % (i, b"v" * 8000) for i in range(9))
    statuses, received, closed = exchange(daemon, head)
    assert statuses == ["431"], received[:300]
    assert body_of(received)["error_description"] == "request head larger than 64 KiB"


def test_a_56_kb_head_forwarded_by_a_proxy_is_served(daemon):
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + \
        b"".join(b"X-%d: %s\r\n" % (i, b"v" * 8000) for i in range(7)) + b"\r\n"
    statuses, received, _ = exchange(daemon, head)
    assert statuses == ["200"], received[:300]

"""Issue 13 item 5: one connection never carries more requests than the bytes
say (SPEC §8.10). Each test writes raw bytes to a socket and counts the
responses that come back before the daemon closes the connection: a head two
parsers could read differently is answered once, with 400, and closed; a
response after which a body went unread closes the connection."""

import socket

import pytest

SMUGGLED = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"


def exchange(daemon, data, wait=5.0):
    """Sends `data`, reads until the daemon closes (or `wait` passes);
    returns the status lines of every response received, and whether the
    daemon closed the connection."""
    s = socket.create_connection(("127.0.0.1", daemon.port), timeout=wait)
    s.sendall(data)
    received = b""
    closed = False
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                closed = True
                break
            received += chunk
    except socket.timeout:
        pass
    finally:
        s.close()
    return response_statuses(received), received, closed


def response_statuses(received):
    """The status of each response in `received`, read as a client reads
    them: a head, then as many body bytes as its Content-Length says."""
    statuses = []
    rest = received
    while rest:
        head_end = rest.find(b"\r\n\r\n")
        assert head_end >= 0 and rest.startswith(b"HTTP/1.1 "), rest[:200]
        lines = rest[:head_end].split(b"\r\n")
        statuses.append(lines[0].split(b" ")[1].decode())
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        rest = rest[head_end + 4 + length:]
    return statuses


def padded(body_text, size):
    return body_text + b"x" * (size - len(body_text))


BAD_HEADS = [
    pytest.param(b"POST /verify HTTP/1.1\r\nHost: x\r\nX: a\nContent-Length: 40\r\n\r\n" + padded(SMUGGLED, 40),
                 id="bare-LF-on-verify"),
    pytest.param(b"GET /verify HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
                 b"0\r\n\r\n" + SMUGGLED, id="CL-and-TE-on-verify"),
    pytest.param(b"POST /token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n" + SMUGGLED,
                 id="unknown-TE-on-token"),
    pytest.param(b"POST /token HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 40\r\n\r\nabc" + SMUGGLED,
                 id="two-content-lengths"),
    pytest.param(b"GET /verify HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\r\n b\r\n\r\n" + SMUGGLED,
                 id="folded-line"),
    pytest.param(b"GET /verify HTTP/1.1\r\nHost: x\rX-Original-URI: /admin\r\n\r\n" + SMUGGLED, id="bare-CR"),
    # A space before the colon: a tolerant proxy reads a length, httplib another field (RFC 9112 §5.1).
    pytest.param(b"POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                 b"Content-Length : " + str(len(SMUGGLED)).encode() + b"\r\n\r\n" + SMUGGLED, id="space-before-colon"),
    pytest.param(b"POST /token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n" + SMUGGLED,
                 id="TE-space-before-colon"),
    pytest.param(b"GET /verify HTTP/1.1\r\nHost: x\r\nno colon\r\n\r\n" + SMUGGLED, id="no-colon"),
    pytest.param(b"\r\n\r\n" + SMUGGLED, id="stray-CRLF-first"),
    pytest.param(b"get /verify HTTP/1.1\r\nHost: x\r\n\r\n" + SMUGGLED, id="lowercase-method"),
    pytest.param(b"GET /verify HTTP/1.1\r\nX-Original-URI: /admin\r\n\r\n" + SMUGGLED, id="no-Host"),
    pytest.param(b"GET /verify HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n" + SMUGGLED, id="two-Hosts"),
    pytest.param(b"GET /verify HTTP/1.1\r\nHost: x\r\nX: a\x00b\r\n\r\n" + SMUGGLED, id="NUL-in-value"),
]


@pytest.mark.parametrize("data", BAD_HEADS)
def test_an_ambiguous_head_gets_one_400_and_the_close(daemon, data):
    statuses, received, closed = exchange(daemon, data)
    assert statuses == ["400"], received[:600]
    assert closed
    assert b"malformed request" in received


@pytest.mark.parametrize("data", BAD_HEADS)
def test_an_ambiguous_head_after_a_good_request_on_a_worker_gets_one_400_and_the_close(daemon, data):
    """The first request goes to a worker thread, which reads the next one
    itself: the same rule holds there."""
    first = b"POST /revoke HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n" \
            b"Content-Length: 7\r\n\r\ntoken=x"
    statuses, received, closed = exchange(daemon, first + data)
    assert len(statuses) == 2 and statuses[1] == "400", received[:1200]
    assert closed


def test_a_preflight_with_a_body_never_has_its_body_read_as_a_request(daemon):
    """The event loop reads the body the Content-Length announces with the
    head; the preflight is answered and the body skipped, so the next request
    on the connection is the one the client sent next."""
    data = (b"OPTIONS /.well-known/oauth-authorization-server HTTP/1.1\r\nHost: x\r\nOrigin: https://a.example\r\n"
            b"Access-Control-Request-Method: GET\r\nContent-Length: " + str(len(SMUGGLED)).encode() +
            b"\r\n\r\n" + SMUGGLED + b"GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    statuses, received, closed = exchange(daemon, data)
    assert statuses == ["204", "404"], received[:600]
    assert closed


def test_well_formed_pipelined_requests_are_all_answered(daemon):
    statuses, received, _ = exchange(daemon, SMUGGLED * 3 + b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
                                     b"Connection: close\r\n\r\n")
    assert statuses == ["200"] * 4, received[:600]

"""Issue 12 item 6: fetches of client ID metadata documents, whose URL any
stranger chooses by sending it as client_id to /authorize (SPEC §3, §8.14).

The attacker's requests: GET /authorize with client_id set to a URL on a
server that drips one byte a second, on a name that does not resolve, on a
closed port or a private address (to map the network behind the daemon),
the same failing URL again and again (to make the daemon hammer it), and
many distinct URLs (to fill the clients table). Every server here is on
loopback; `cimd_allow_private` lets the daemon reach it where the test needs."""

import json
import socket
import ssl
import subprocess
import threading
import time
import urllib.parse

import pytest
import requests

from conftest import SCOPES, Daemon, free_port, pkce_pair, poll

COULD_NOT = "could not be fetched"


@pytest.fixture(scope="module")
def tls_cert(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 (the daemon trusts it through extra_ca_file)."""
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return cert, key


class LoopbackServer:
    """A TCP server on 127.0.0.1 that runs `handle(conn)` per connection, on its own thread."""

    def __init__(self, handle, tls=None):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.handle = handle
        self.connections = 0
        self.closed_at = []  # when the daemon hung up, per connection
        self.stopping = False
        self.ctx = None
        if tls:
            self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ctx.load_cert_chain(str(tls[0]), str(tls[1]))
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def accept_loop(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self.serve_one, args=(conn,), daemon=True).start()

    def serve_one(self, conn):
        try:
            if self.ctx:
                conn = self.ctx.wrap_socket(conn, server_side=True)
            self.handle(conn)
        except (OSError, ssl.SSLError):
            pass
        finally:
            self.closed_at.append(time.monotonic())
            try:
                conn.close()
            except OSError:
                pass

    def url(self, path="/client.json"):
        return f"https://127.0.0.1:{self.port}{path}"

    def close(self):
        self.stopping = True
        self.sock.close()


def drip(conn, data):
    """Sends `data` one byte a second until the peer hangs up (or 60 s)."""
    for b in data[:60]:
        conn.sendall(bytes([b]))
        time.sleep(1)


def read_request(conn):
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = conn.recv(4096)
        if not chunk:
            break
        buf += chunk
    return buf


def authorize(daemon, client_id, redirect_uri="http://127.0.0.1:9/cb"):
    _, challenge = pkce_pair()
    q = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri, "state": "s",
         "code_challenge": challenge, "code_challenge_method": "S256"}
    return requests.get(daemon.url("/authorize?" + urllib.parse.urlencode(q)), allow_redirects=False, timeout=30)


def start(tmp_path, **config):
    d = Daemon(tmp_path, config={"scopes": SCOPES, **config})
    d.start()
    return d


@pytest.fixture
def private_ok(tmp_path, tls_cert):
    d = start(tmp_path, cimd_allow_private=True, extra_ca_file=str(tls_cert[0]))
    try:
        yield d
    finally:
        d.stop()


# --- one deadline for the whole fetch -------------------------------------------

def dripping_tls_handshake(conn):
    # A TLS record header announcing 16 KiB of handshake, then a byte a second:
    # the client waits for the whole record.
    conn.sendall(b"\x16\x03\x03\x40\x00")
    drip(conn, b"\x02" * 60)


def dripping_headers(conn):
    read_request(conn)
    drip(conn, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Slow: " + b"a" * 60)


def dripping_body(conn):
    read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n")
    drip(conn, b"{" + b" " * 80)


@pytest.mark.parametrize("stage", ["tls_handshake", "headers", "body"])
def test_a_server_dripping_a_byte_a_second_is_cut_off_at_the_5_s_deadline_of_the_whole_fetch(
        private_ok, tls_cert, stage):
    handler = {"tls_handshake": dripping_tls_handshake, "headers": dripping_headers, "body": dripping_body}[stage]
    server = LoopbackServer(handler, tls=None if stage == "tls_handshake" else tls_cert)
    try:
        began = time.monotonic()
        page = authorize(private_ok, server.url())
        took = time.monotonic() - began
        assert page.status_code == 400, page.text
        assert COULD_NOT in page.text
        assert 4.5 <= took <= 7.0, f"the fetch took {took:.1f} s"
        # The daemon hung up on the dripper (it did not leave the connection to it open).
        assert poll(lambda: len(server.closed_at) == 1, timeout=3)
        assert "deadline" in private_ok.log_text()
    finally:
        server.close()


# --- a stranger learns nothing about the network ----------------------------------

def error_text(page):
    assert page.status_code == 400, page.text
    return page.text


def test_the_error_page_is_identical_for_a_name_that_does_not_resolve_and_a_closed_port(private_ok):
    closed = free_port()
    nowhere = error_text(authorize(private_ok, "https://no-such-host.invalid/client.json"))
    refused = error_text(authorize(private_ok, f"https://127.0.0.1:{closed}/client.json"))
    assert nowhere == refused
    assert COULD_NOT in nowhere
    for leak in ("resolve", "refused", "Connection", "127.0.0.1", "private", str(closed)):
        assert leak not in nowhere
    log = private_ok.log_text()
    assert "no-such-host.invalid" in log and f"127.0.0.1:{closed}" in log  # the detail is in the log


def test_without_cimd_allow_private_a_private_address_looks_like_any_other_failure(tmp_path, tls_cert):
    d = start(tmp_path)
    try:
        server = LoopbackServer(lambda conn: None, tls=tls_cert)
        pages = {error_text(authorize(d, u)) for u in (
            server.url(), f"https://127.0.0.1:{free_port()}/c.json", "https://no-such-host.invalid/c.json",
            "https://[::1]/c.json", "https://[::ffff:127.0.0.1]/c.json", "https://[64:ff9b::7f00:1]/c.json",
            "https://[2002:7f00:1::1]/c.json", "https://169.254.169.254/latest/meta-data")}
        assert len(pages) == 1
        assert COULD_NOT in pages.pop()
        assert server.connections == 0  # nothing private was ever connected to
        server.close()
    finally:
        d.stop()


def test_a_failed_fetch_is_not_repeated_for_every_request(private_ok, tls_cert):
    def not_found(conn):
        read_request(conn)
        conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

    server = LoopbackServer(not_found, tls=tls_cert)
    try:
        for _ in range(5):
            assert COULD_NOT in error_text(authorize(private_ok, server.url()))
        assert server.connections == 1
        private_ok.advance(301)  # past the negative cache's 300 s
        assert COULD_NOT in error_text(authorize(private_ok, server.url()))
        assert server.connections == 2
    finally:
        server.close()


# --- unused clients strangers made are deleted -------------------------------------

def client_ids(daemon):
    return {c["client_id"] for c in daemon.cli("client", "list")["clients"]}


def test_the_housekeeper_deletes_unused_metadata_document_clients_and_expired_registrations(private_ok, tls_cert):
    def document(conn):
        read_request(conn)
        body = json.dumps({"client_id": server.url(), "client_name": "doc",
                           "redirect_uris": ["http://127.0.0.1:9/cb"]}).encode()
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                     b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)

    server = LoopbackServer(document, tls=tls_cert)
    try:
        page = authorize(private_ok, server.url())
        assert page.status_code == 200, page.text
        reg = requests.post(private_ok.url("/register"), json={"redirect_uris": ["http://127.0.0.1:9/cb"]}, timeout=10)
        assert reg.status_code == 201, reg.text
        dynamic = reg.json()["client_id"]
        operator = private_ok.add_client("operator").client_id
        assert {server.url(), dynamic, operator} <= client_ids(private_ok)

        # A day later the document client has not been used: gone at the
        # housekeeper's next run (at start, then every 10 minutes).
        private_ok.advance(86400 + 60)
        private_ok.restart()
        assert poll(lambda: server.url() not in client_ids(private_ok), timeout=3)
        assert {dynamic, operator} <= client_ids(private_ok)

        # The registration expires unused after 30 days.
        private_ok.advance(31 * 86400)
        private_ok.restart()
        assert poll(lambda: dynamic not in client_ids(private_ok), timeout=3)
        assert operator in client_ids(private_ok)
    finally:
        server.close()

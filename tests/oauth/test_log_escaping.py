"""Issue 18, item 5 (SPEC §9 "Logs"): what a stranger types never forges a
line or reaches the operator's terminal raw, in `plugauth audit`'s text
output or in the daemon's log; `audit --json` stays exact."""

import subprocess
import urllib.parse

import requests

from conftest import BINARY, poll

# Under the 64 characters the audit keeps of a typed name.
FORGED_NAME = "zed\n2026-12-03T08:00:00Z login status=200\x1b]0;x\x07\x1b[2J\u202e"


def audit_text(daemon):
    r = subprocess.run([BINARY, "audit", "--data", str(daemon.data)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_a_typed_name_that_matches_no_user_is_not_stored(daemon, client, browser):
    """SPEC §8.9: a name that is no account is sometimes a password typed into
    the wrong field; the audit says only that it matched nobody."""
    consent = browser.sign_in(daemon.authorize_url(client), username=FORGED_NAME, password="wrong-password")
    assert consent.status_code == 401, consent.status_code
    # The audit queue is written every 200 ms.
    assert poll(lambda: "login_failed" in audit_text(daemon)), audit_text(daemon)
    out = audit_text(daemon)
    assert "zed" not in out and "2026-12-03T08:00:00Z" not in out, out
    failed = [line for line in out.splitlines() if "login_failed" in line]
    assert len(failed) == 1 and "an unknown user name" in failed[0], out
    events = daemon.cli("audit", "--action", "login_failed")["events"]
    assert not any("zed" in e["detail"] for e in events), events


def test_a_forged_path_is_one_escaped_line_in_audit(daemon):
    """The path a refused /verify names is the stranger's text: `audit` shows
    it as sent, encoded, on one line. (Raw control characters in a header are
    refused before any handler: 400.)"""
    forged = "/api/zed\n2026-12-03T08:00:00Z login status=200\x1b]0;x\x07\x1b[2J\u202e"
    raw = ("GET /verify HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer not-a-token\r\nX-Original-URI: "
           ).encode() + urllib.parse.quote(forged, safe="/").encode() + b"\r\nConnection: close\r\n\r\n"
    import socket
    with socket.create_connection(("127.0.0.1", daemon.port), timeout=10) as s:
        s.sendall(raw)
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 4"), answer[:200]
    assert poll(lambda: "verify_" in audit_text(daemon)), audit_text(daemon)
    out = audit_text(daemon)
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out, repr(out)
    assert not any(line.startswith("2026-12-03T08:00:00Z") for line in out.splitlines()), out
    refused = [line for line in out.splitlines() if "verify_" in line]
    assert len(refused) == 1, out
    # The path as the proxy sent it, still percent-encoded: nothing decoded
    # into a control character on the way.
    assert "path=/api/zed%0A2026-12-03T08%3A00%3A00Z" in refused[0] and "%1B%5D0%3Bx%07" in refused[0], refused[0]


def test_a_forged_path_is_one_escaped_line_in_the_daemons_log(daemon):
    r = requests.get(daemon.url("/nowhere%1b]0;owned%07%1b[2J%0aforged-line%e2%80%ae"), timeout=10)
    assert r.status_code == 404
    requests.get(daemon.url("/healthz"), timeout=10)  # its access-log line follows the one above
    log = daemon.log_text()
    assert "\x1b" not in log and "\x07" not in log and "\u202e" not in log, repr(log[-500:])
    assert not any(line.startswith("forged-line") for line in log.splitlines()), log[-500:]

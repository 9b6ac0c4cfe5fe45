"""Issue 18, item 5 (SPEC §9 "Logs"): what a stranger types never forges a
line or reaches the operator's terminal raw, in `plugauth audit`'s text
output or in the daemon's log; `audit --json` stays exact."""

import subprocess

import requests

from conftest import BINARY, poll

# Under the 64 characters the audit keeps of a typed name.
FORGED_NAME = "zed\n2026-12-03T08:00:00Z login status=200\x1b]0;x\x07\x1b[2J\u202e"


def audit_text(daemon):
    r = subprocess.run([BINARY, "audit", "--data", str(daemon.data)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_a_forged_user_name_is_one_escaped_line_in_audit(daemon, client, browser):
    consent = browser.sign_in(daemon.authorize_url(client), username=FORGED_NAME, password="wrong-password")
    assert consent.status_code == 401, consent.status_code
    # The audit queue is written every 200 ms.
    assert poll(lambda: "login_failed" in audit_text(daemon)), audit_text(daemon)
    out = audit_text(daemon)
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out, repr(out)
    assert not any(line.startswith("2026-12-03T08:00:00Z") for line in out.splitlines()), out
    failed = [line for line in out.splitlines() if "login_failed" in line]
    assert len(failed) == 1 and "zed\\x0a2026-12-03T08:00:00Z" in failed[0], out
    assert "\\x1b]0;x\\x07\\x1b[2J\\u{202e}" in failed[0], failed[0]
    # --json is exact: the name as typed, JSON-escaped by the encoder.
    events = daemon.cli("audit", "--action", "login_failed")["events"]
    assert any(FORGED_NAME in e["detail"] for e in events), events


def test_a_forged_path_is_one_escaped_line_in_the_daemons_log(daemon):
    r = requests.get(daemon.url("/nowhere%1b]0;owned%07%1b[2J%0aforged-line%e2%80%ae"), timeout=10)
    assert r.status_code == 404
    requests.get(daemon.url("/healthz"), timeout=10)  # its access-log line follows the one above
    log = daemon.log_text()
    assert "\x1b" not in log and "\x07" not in log and "\u202e" not in log, repr(log[-500:])
    assert not any(line.startswith("forged-line") for line in log.splitlines()), log[-500:]

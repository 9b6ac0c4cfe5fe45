"""Fixtures that run the real plugauth binary for the Python OAuth tests.

Each test gets its own daemon on a free loopback port with a fresh data
directory. Clients, users and roles are created through the CLI, exactly as
an operator would. Time moves through PLUGAUTH_TEST_CLOCK_OFFSET_FILE (the
daemon re-reads it on every use), so no test ever sleeps to wait for expiry.

The "browser" here is `requests`: it loads the sign-in page, posts the form
with the hidden fields it finds (CSRF token included), then the consent form,
and returns the redirect's Location without following it.
"""

import base64
import hashlib
import html.parser
import json
import os
import pathlib
import secrets
import socket
import subprocess
import time
import urllib.parse

import pytest
import requests

REPO = pathlib.Path(__file__).resolve().parents[2]
BINARY = os.environ.get("PLUGAUTH_BINARY") or str(REPO / "build" / "plugauth")

SCOPES = {"notes:read": "Read your notes", "notes:write": "Change your notes"}
PASSWORD = "correct horse battery staple"


_given_ports = set()


def free_port():
    """A port nothing listens on now, never one given out before in this run:
    the kernel can hand a closed probe port out again before its server binds."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _given_ports:
            _given_ports.add(port)
            return port


def pkce_pair():
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


class HiddenInputs(html.parser.HTMLParser):
    """Collects <input type="hidden"> name/value pairs of a page's forms."""

    def __init__(self):
        super().__init__()
        self.fields = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("type") == "hidden" and a.get("name"):
            self.fields[a["name"]] = a.get("value") or ""


def hidden_fields(page_html):
    p = HiddenInputs()
    p.feed(page_html)
    return p.fields


class Daemon:
    def __init__(self, root, config=None):
        self.root = root
        self.data = root / "data"
        self.data.mkdir()
        (self.data / "plugauth.json").write_text(json.dumps(config or {"scopes": SCOPES}))
        self.offset_file = root / "clock-offset"
        self.offset_file.write_text("0")
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.base = self.issuer
        self.proc = None
        self.log = None

    # --- process --------------------------------------------------------------

    def start(self, issuer=None, env=None):
        args = [BINARY, "serve", "--listen", f"127.0.0.1:{self.port}", "--data", str(self.data)]
        if issuer:
            args += ["--issuer", issuer]
            self.issuer = issuer
        env = dict(os.environ, PLUGAUTH_TEST_CLOCK_OFFSET_FILE=str(self.offset_file), **(env or {}))
        self.log = open(self.root / "serve.log", "ab")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=self.log, env=env)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"plugauth serve exited with {self.proc.returncode}:\n{self.log_text()}")
            try:
                if requests.get(self.url("/healthz"), timeout=1).status_code == 200:
                    return
            except (requests.ConnectionError, requests.Timeout):
                pass  # not listening yet, or listening and not yet serving
            time.sleep(0.05)
        raise RuntimeError("plugauth serve did not become healthy:\n" + self.log_text())

    def stop(self):
        """Stops the daemon with SIGTERM. A daemon that died on its own, did not
        stop within 10 s, exited non-zero or logged a sanitizer report is a
        failure, with its log: otherwise a crash shows up only as some client's
        "connection closed" error."""
        problem = None
        if self.proc:
            if self.proc.poll() is not None:
                problem = f"plugauth serve died during the test (exit status {self.proc.returncode})"
            else:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
                    problem = "plugauth serve did not stop within 10 s of SIGTERM"
                if problem is None and self.proc.returncode != 0:
                    problem = f"plugauth serve exited with status {self.proc.returncode} on SIGTERM"
        self.proc = None
        if self.log:
            self.log.close()
            self.log = None
        text = self.log_text()
        if problem is None and ("Sanitizer" in text or "runtime error:" in text):
            problem = "plugauth serve logged a sanitizer report"
        if problem:
            raise AssertionError(f"{problem}; its log:\n{text[-20000:]}")

    def restart(self, issuer=None):
        self.stop()
        self.start(issuer)

    def log_text(self):
        p = self.root / "serve.log"
        return p.read_text(errors="replace") if p.exists() else ""

    def url(self, path):
        return self.base + path

    def advance(self, seconds):
        """Sets the daemon's clock to `seconds` past real time (absolute, not cumulative)."""
        self.offset_file.write_text(str(int(seconds)))

    # --- CLI ------------------------------------------------------------------

    def run_cli(self, *args, stdin=None):
        """The finished `plugauth ARGS --data … --json` process (exit status, stdout, stderr)."""
        return subprocess.run([BINARY, *args, "--data", str(self.data), "--json"], input=stdin,
                              capture_output=True, text=True, timeout=30)

    def cli(self, *args, stdin=None, check=True):
        r = self.run_cli(*args, stdin=stdin)
        if check and r.returncode != 0:
            raise AssertionError(f"plugauth {' '.join(args)} exited {r.returncode}: {r.stderr}")
        return json.loads(r.stdout) if r.stdout.strip() else None

    def add_client(self, name="app", redirect_uris=None, public=False, scope=None):
        args = ["client", "add", "--name", name]
        for uri in redirect_uris or [f"http://127.0.0.1:{free_port()}/cb"]:
            args += ["--redirect-uri", uri]
        if public:
            args.append("--public")
        if scope is not None:
            args += ["--scope", scope]
        return Client(self, self.cli(*args))

    def add_user(self, name, password=PASSWORD):
        return self.cli("user", "add", name, "--password-stdin", stdin=password + "\n")

    # --- HTTP -----------------------------------------------------------------

    def verify(self, access_token, uri="/", **params):
        """GET /verify as a proxy asks it: for the original URI `uri` (None: none named;
        with route rules configured, such a request is refused, SPEC §8.14)."""
        headers = {"Authorization": f"Bearer {access_token}"}
        if uri is not None:
            headers["X-Original-URI"] = uri
        return requests.get(self.url("/verify"), params=params, headers=headers, timeout=10)

    def token(self, data=None, auth=None, json_body=None, **kw):
        return requests.post(self.url("/token"), data=data, json=json_body, auth=auth, timeout=10, **kw)

    def authorize_url(self, client, redirect_uri=None, scope="notes:read", state=None, challenge=None,
                      method="S256", **extra):
        q = {"response_type": "code", "client_id": client.client_id,
             "redirect_uri": redirect_uri or client.redirect_uri, "state": state or secrets.token_urlsafe(12)}
        if scope is not None:
            q["scope"] = scope
        if challenge is not None:
            q["code_challenge"] = challenge
            if method is not None:
                q["code_challenge_method"] = method
        q.update(extra)
        return self.url("/authorize?" + urllib.parse.urlencode(q))


class Client:
    def __init__(self, daemon, info):
        self.daemon = daemon
        self.info = info
        self.client_id = info["client_id"]
        self.client_secret = info.get("client_secret")
        self.redirect_uri = info["redirect_uris"][0]

    @property
    def basic(self):
        return (self.client_id, self.client_secret)


class Browser:
    """A user agent on the sign-in and consent pages, with its own cookies."""

    def __init__(self, daemon):
        self.daemon = daemon
        self.session = requests.Session()

    def open(self, authorize_url):
        r = self.session.get(authorize_url, allow_redirects=False, timeout=10)
        return r

    def post(self, fields):
        return self.session.post(self.daemon.url("/authorize"), data=fields, allow_redirects=False, timeout=10)

    def sign_in(self, authorize_url, username="alice", password=PASSWORD, totp=None):
        """Loads the sign-in page and signs in; returns the consent page response."""
        page = self.open(authorize_url)
        assert page.status_code == 200, (page.status_code, page.text)
        fields = hidden_fields(page.text)
        assert fields.get("csrf"), "sign-in page has no CSRF field"
        fields.update(action="login", username=username, password=password)
        if totp is not None:
            fields["totp"] = totp
        return self.post(fields)

    def consent(self, consent_page, action="allow"):
        assert consent_page.status_code == 200, (consent_page.status_code, consent_page.text)
        fields = hidden_fields(consent_page.text)
        fields["action"] = action
        return self.post(fields)

    def authorize(self, authorize_url, action="allow", username="alice", password=PASSWORD):
        """Runs sign-in + consent and returns the 303's Location (not followed)."""
        answer = self.consent(self.sign_in(authorize_url, username, password), action)
        assert answer.status_code == 303, (answer.status_code, answer.text)
        return answer.headers["Location"]


def query_of(location):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query, keep_blank_values=True))


@pytest.fixture
def daemon(tmp_path):
    d = Daemon(tmp_path)
    d.add_user("alice")
    d.cli("role", "add", "user", "--scope", "notes:read")
    d.start()
    try:
        yield d
    finally:
        d.stop()


@pytest.fixture
def client(daemon):
    return daemon.add_client("notes-gpt")


@pytest.fixture
def browser(daemon):
    return Browser(daemon)


@pytest.fixture
def obtain(daemon):
    """obtain(client, ...) -> the /token JSON of a complete code flow (confidential, Basic, PKCE)."""

    def run(client, scope="notes:read", redirect_uri=None, pkce=True):
        verifier, challenge = pkce_pair() if pkce else (None, None)
        url = daemon.authorize_url(client, redirect_uri=redirect_uri, scope=scope, challenge=challenge)
        code = query_of(Browser(daemon).authorize(url))["code"]
        data = {"grant_type": "authorization_code", "code": code,
                "redirect_uri": redirect_uri or client.redirect_uri}
        if verifier:
            data["code_verifier"] = verifier
        r = daemon.token(data, auth=client.basic)
        assert r.status_code == 200, (r.status_code, r.text)
        return r.json()

    return run


def assert_oauth_error(response, status, error):
    """RFC 6749 §5.2: the status, a JSON body with `error`, no-store."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers.get("Content-Type", "").startswith("application/json"), response.headers
    body = response.json()
    assert body["error"] == error, body
    return body


def assert_invalid_token(response):
    """RFC 6750 §3: 401 with a Bearer challenge naming invalid_token."""
    assert response.status_code == 401, (response.status_code, response.text, dict(response.headers))
    challenge = response.headers.get("WWW-Authenticate", "")
    assert challenge.startswith("Bearer "), challenge
    assert 'error="invalid_token"' in challenge, challenge


def poll(predicate, timeout=1.5, interval=0.05):
    """True as soon as predicate() is; False after `timeout` seconds (for 'within a second' rules)."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)

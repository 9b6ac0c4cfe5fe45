// plugauth's sign-in, consent and account pages in a real browser: Debian's
// Chromium driven by playwright-core, against the real binary on loopback.
//
// Each test starts its own daemon (fresh data directory, one user, one client)
// and a small HTTP server standing in for the client's redirect URI, which
// records every callback it receives and answers 200 "ok".
//
// Environment (set by run.sh):
//   PLUGAUTH_BINARY     the plugauth binary under test
//   PLUGAUTH_ARTIFACTS  where screenshots go (tests/artifacts/)
//   PLUGAUTH_CHROMIUM   the browser (default /usr/bin/chromium)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const BINARY = process.env.PLUGAUTH_BINARY || path.resolve('../../build/plugauth');
const ARTIFACTS = process.env.PLUGAUTH_ARTIFACTS || path.resolve('../artifacts');
const CHROMIUM = process.env.PLUGAUTH_CHROMIUM || '/usr/bin/chromium';
const PASSWORD = 'correct horse battery staple';
const SCOPE_WORDS = 'Read your notes';
const PHONE = { width: 390, height: 844 };

// The machine's network is closed: without the background-networking flags
// Chromium keeps trying to reach Google's hosts. playwright-core gives every
// launch a new, empty profile directory of its own (it refuses a
// --user-data-dir argument), so no state leaks between runs.
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  // The https test's two sites, auth.plugin.test and evil.plugin.test, are
  // Caddy on loopback.
  '--host-resolver-rules=MAP *.plugin.test 127.0.0.1',
];

let browser;

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
});

// --- helpers -----------------------------------------------------------------

const b64url = (buf) => buf.toString('base64url');

function pkcePair() {
  const verifier = b64url(randomBytes(32));
  const challenge = b64url(createHash('sha256').update(verifier).digest());
  return { verifier, challenge };
}

// A port nothing listens on now, never one given out before in this process
// (the kernel can hand a closed probe port out again before its server binds).
const givenPorts = new Set();
async function freePort() {
  for (;;) {
    const port = await new Promise((resolve, reject) => {
      const s = net.createServer();
      s.on('error', reject);
      s.listen(0, '127.0.0.1', () => {
        const { port } = s.address();
        s.close(() => resolve(port));
      });
    });
    if (!givenPorts.has(port)) {
      givenPorts.add(port);
      return port;
    }
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The client's redirect URI: records each /callback query. Also serves /frame,
// a page on another origin that tries to put `src` URLs in iframes.
async function startCallbackServer() {
  const hits = [];
  let framedUrls = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    if (url.pathname === '/callback') {
      hits.push(url);
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
      return res.end('ok');
    }
    if (url.pathname === '/frame') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      return res.end('<!doctype html><title>framer</title>' +
        framedUrls.map((u, i) => `<iframe id="f${i}" src="${u}" width="400" height="300"></iframe>`).join(''));
    }
    res.writeHead(404).end();
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    redirectUri: `http://127.0.0.1:${port}/callback`,
    hits,
    frame(urls) { framedUrls = urls; },
    close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }),
  };
}

// A daemon of its own: data directory with a scope description, user alice,
// one confidential client whose redirect URI is the callback server's.
async function startPlugauth(t, { issuer } = {}) {
  const callback = await startCallbackServer();
  const data = mkdtempSync(path.join(os.tmpdir(), 'plugauth-browser-'));
  writeFileSync(path.join(data, 'plugauth.json'), JSON.stringify({ scopes: { 'notes:read': SCOPE_WORDS } }));
  const run = (args, input) => execFileSync(BINARY, [...args, '--data', data],
    { input, stdio: ['pipe', 'pipe', 'pipe'] }).toString();
  run(['user', 'add', 'alice', '--password-stdin'], PASSWORD + '\n');
  const client = JSON.parse(run(['client', 'add', '--name', 'My GPT', '--redirect-uri', callback.redirectUri, '--json']));

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let log = '';
  // The daemon's clock: real time plus the seconds in this file (re-read on
  // every use), so a test moves time instead of waiting for it.
  const clockFile = path.join(data, 'clock-offset');
  writeFileSync(clockFile, '0');
  const proc = spawn(BINARY, ['serve', '--listen', `127.0.0.1:${port}`, '--data', data,
    ...(issuer ? ['--issuer', issuer] : [])],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PLUGAUTH_TEST_CLOCK_OFFSET_FILE: clockFile } });
  proc.stdout.on('data', (d) => { log += d; });
  proc.stderr.on('data', (d) => { log += d; });
  const exited = new Promise((r) => proc.on('exit', r));

  // A daemon that died during the test, did not stop on SIGTERM, exited
  // badly or logged a sanitizer report fails the test, with its log:
  // otherwise a crash shows up only as a page that did not load.
  const stop = async () => {
    let problem = null;
    if (proc.exitCode !== null || proc.signalCode !== null) {
      problem = `died during the test (status ${proc.exitCode}, signal ${proc.signalCode})`;
    } else {
      proc.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGKILL');
        await exited;
        problem = 'did not stop within 5 s of SIGTERM';
      } else if (proc.exitCode !== 0) {
        problem = `ended with status ${proc.exitCode}, signal ${proc.signalCode} on SIGTERM`;
      }
    }
    if (!problem && /Sanitizer|runtime error:/.test(log)) problem = 'logged a sanitizer report';
    await callback.close();
    rmSync(data, { recursive: true, force: true });
    if (problem) throw new Error(`plugauth serve ${problem}; its log:\n${log.slice(-20000)}`);
  };
  t.after(stop);

  const deadline = Date.now() + 10_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`plugauth exited early (${proc.exitCode}):\n${log}`);
    try {
      if ((await fetch(`${base}/healthz`)).status === 200) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) throw new Error(`plugauth did not answer /healthz within 10 s:\n${log}`);
    await sleep(50);
  }
  const metadata = await (await fetch(`${base}/.well-known/oauth-authorization-server`)).json();
  // The daemon's log, one line per request, beside the screenshots.
  const logFile = path.join(ARTIFACTS, `${t.name.replace(/[^A-Za-z0-9]+/g, '-').slice(0, 60)}.log`);
  t.after(() => writeFileSync(logFile, log));
  return {
    base, issuer: metadata.issuer, client, callback, log: () => log,
    advance: (seconds) => writeFileSync(clockFile, String(seconds)),
  };
}

// The code an authenticator app shows for an otpauth:// URI, `offset` seconds
// from now, computed by pyotp (python3-pyotp), not by anything of ours.
function appCode(uri, offset = 0) {
  return execFileSync('/usr/bin/python3', ['-c',
    'import pyotp, sys, time; print(pyotp.parse_uri(sys.argv[1]).at(int(time.time()) + int(sys.argv[2])))',
    uri, String(offset)]).toString().trim();
}

function authorizeUrl(d, { state, challenge }) {
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: d.client.client_id,
    redirect_uri: d.callback.redirectUri,
    scope: 'notes:read',
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  return `${d.base}/authorize?${q}`;
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

// Clicks a submit button (a name, or a locator) and resolves with the response
// to the form's POST, before any redirect it answers with is followed.
async function submit(page, button, pathname) {
  const posted = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === pathname);
  const locator = typeof button === 'string' ? page.getByRole('button', { name: button, exact: true }) : button;
  await locator.click();
  const response = await posted;
  await page.waitForLoadState('load');
  return response;
}

async function signIn(page, password = PASSWORD, pathname = '/authorize', totp = '') {
  await page.locator('#username').fill('alice');
  await page.locator('#password').fill(password);
  if (totp) await page.locator('#totp').fill(totp);
  return submit(page, 'Sign in', pathname);
}

async function landOnCallback(page, d, buttonName) {
  const landed = page.waitForURL((u) => u.href.startsWith(d.callback.redirectUri));
  const response = await submit(page, buttonName, '/authorize');
  assert.equal(response.status(), 303, 'the consent form answers 303 See Other');
  await landed;
  return new URL(page.url());
}

async function exchangeCode(d, code, verifier) {
  const res = await fetch(`${d.base}/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: d.callback.redirectUri,
      client_id: d.client.client_id,
      client_secret: d.client.client_secret,
      code_verifier: verifier,
    }),
  });
  return { status: res.status, body: await res.json() };
}

// Readable on a phone: the page's box and its buttons lie within the viewport,
// nothing to scroll sideways.
async function assertFitsWidth(page) {
  const { width } = page.viewportSize();
  for (const locator of [page.locator('main'), page.getByRole('button')]) {
    for (const box of await Promise.all((await locator.all()).map((l) => l.boundingBox()))) {
      assert.ok(box.x >= 0 && box.x + box.width <= width,
        `${JSON.stringify(box)} lies within the ${width}px wide viewport`);
    }
  }
}

const verify = (d, token) => fetch(`${d.base}/verify`, { headers: { Authorization: `Bearer ${token}` } });

// The whole authorization-code flow in one browser context: sign-in page,
// consent page, back to the client, code exchanged for tokens.
async function signInAndAllow(t, context, prefix) {
  const d = await startPlugauth(t);
  const page = await context.newPage();
  const { verifier, challenge } = pkcePair();
  const state = b64url(randomBytes(16));
  const host = `127.0.0.1:${d.callback.port}`;

  const first = await page.goto(authorizeUrl(d, { state, challenge }));
  assert.equal(first.status(), 200);
  assert.equal(await page.locator('h1').innerText(), 'Sign in');
  const signInText = await page.locator('main').innerText();
  assert.match(signInText, /My GPT/, 'the sign-in page names the client');
  assert.ok(signInText.includes(host), `the sign-in page names the redirect host ${host}`);
  await assertFitsWidth(page);
  await shot(page, `${prefix}-1-sign-in`);

  const consent = await signIn(page);
  assert.equal(consent.status(), 200);
  assert.equal(await page.locator('h1').innerText(), 'Allow access?');
  const consentText = await page.locator('main').innerText();
  assert.match(consentText, /My GPT/, 'the consent page names the client');
  assert.ok(consentText.includes(host), `the consent page names the redirect host ${host}`);
  assert.ok(consentText.includes(SCOPE_WORDS), 'the consent page says what the scope allows, in words');
  assert.match(consentText, /Signed in as alice/);
  await assertFitsWidth(page);
  await shot(page, `${prefix}-2-consent`);

  const landing = await landOnCallback(page, d, 'Allow');
  assert.equal(landing.origin + landing.pathname, d.callback.redirectUri);
  const code = landing.searchParams.get('code');
  assert.ok(code, 'the redirect carries a code');
  assert.equal(landing.searchParams.get('state'), state, 'the redirect carries the same state');
  assert.equal(landing.searchParams.get('iss'), d.issuer, 'the redirect carries iss (RFC 9207)');
  assert.equal(landing.searchParams.get('error'), null);
  assert.equal(d.callback.hits.length, 1, 'the client received exactly one callback');
  assert.equal(await page.locator('body').innerText(), 'ok');
  await shot(page, `${prefix}-3-landed`);

  const token = await exchangeCode(d, code, verifier);
  assert.equal(token.status, 200, JSON.stringify(token.body));
  assert.ok(token.body.access_token, 'the token response has an access_token');
  assert.equal(token.body.token_type.toLowerCase(), 'bearer');
  const checked = await verify(d, token.body.access_token);
  assert.equal(checked.status, 200, 'the access token passes /verify');
  assert.equal(checked.headers.get('x-auth-username'), 'alice');
  return { d, page };
}

// --- tests -------------------------------------------------------------------

test('OAuth sign-in in Chromium: sign in, allow, land on the redirect URI with code, state and iss; the code buys tokens',
  async (t) => {
    const context = await browser.newContext();
    t.after(() => context.close());
    await signInAndAllow(t, context, 'oauth');
  });

test('Deny sends the browser back with error=access_denied and the same state', async (t) => {
  const d = await startPlugauth(t);
  const context = await browser.newContext();
  t.after(() => context.close());
  const page = await context.newPage();
  const state = b64url(randomBytes(16));
  await page.goto(authorizeUrl(d, { state, challenge: pkcePair().challenge }));
  assert.equal((await signIn(page)).status(), 200);
  const landing = await landOnCallback(page, d, 'Deny');
  assert.equal(landing.origin + landing.pathname, d.callback.redirectUri);
  assert.equal(landing.searchParams.get('error'), 'access_denied');
  assert.equal(landing.searchParams.get('state'), state);
  assert.equal(landing.searchParams.get('code'), null, 'no code after Deny');
});

test('a signed-in browser goes straight to consent on its next visit (session cookie)', async (t) => {
  const context = await browser.newContext();
  t.after(() => context.close());
  const { d, page } = await signInAndAllow(t, context, 'session');

  const cookies = await context.cookies(d.base);
  const session = cookies.find((c) => c.name === 'plugauth_session');
  assert.ok(session, 'a session cookie was set');
  assert.equal(session.httpOnly, true, 'the session cookie is HttpOnly');
  assert.equal(session.sameSite, 'Lax', 'the session cookie is SameSite=Lax');

  const state = b64url(randomBytes(16));
  const again = await page.goto(authorizeUrl(d, { state, challenge: pkcePair().challenge }));
  assert.equal(again.status(), 200);
  assert.equal(await page.locator('h1').innerText(), 'Allow access?');
  assert.equal(await page.locator('#username').count(), 0, 'no sign-in form the second time');
  assert.equal(await page.locator('#password').count(), 0);
  const landing = await landOnCallback(page, d, 'Allow');
  assert.ok(landing.searchParams.get('code'));
  assert.equal(landing.searchParams.get('state'), state);
});

test('a wrong password shows the error on the page with status 401 and redirects nowhere', async (t) => {
  const d = await startPlugauth(t);
  const context = await browser.newContext();
  t.after(() => context.close());
  const page = await context.newPage();
  await page.goto(authorizeUrl(d, { state: b64url(randomBytes(16)), challenge: pkcePair().challenge }));
  const response = await signIn(page, 'not the password');
  assert.equal(response.status(), 401);
  assert.equal(new URL(page.url()).origin, d.base, 'the browser stays on plugauth');
  assert.equal(await page.locator('h1').innerText(), 'Sign in');
  assert.equal(await page.getByRole('alert').innerText(), 'The user name, password or authenticator code is wrong.');
  assert.equal(await page.locator('#username').count(), 1, 'the form is shown again');
  await shot(page, 'wrong-password');
  assert.equal(d.callback.hits.length, 0, 'the client received no callback');
});

test('account page: sign in, create a key that passes /verify, revoke it and /verify refuses it within 1 s',
  async (t) => {
    const d = await startPlugauth(t);
    const context = await browser.newContext();
    t.after(() => context.close());
    const page = await context.newPage();
    const first = await page.goto(`${d.base}/account`);
    assert.equal(first.status(), 200);
    assert.equal(await page.locator('h1').innerText(), 'Sign in');
    await shot(page, 'account-1-sign-in');

    const login = await signIn(page, PASSWORD, '/account');
    assert.equal(login.status(), 303, 'signing in answers 303 back to /account');
    assert.equal(await page.locator('h1').innerText(), 'Your API keys');
    assert.match(await page.locator('main').innerText(), /Signed in as alice/);
    assert.equal(await page.locator('#key-password').count(), 0,
      'just signed in, the create-key form does not ask for the password again (SPEC §8.16)');

    await page.locator('#name').fill('ChatGPT');
    const created = await submit(page, 'Create key', '/account');
    assert.equal(created.status(), 200);
    const key = (await page.locator('#new-key').innerText()).trim();
    assert.ok(key.length >= 20, `a key is shown once: ${key}`);
    const row = page.locator('tr', { hasText: 'ChatGPT' });
    assert.equal(await row.count(), 1, 'the new key is listed with its label');
    await shot(page, 'account-2-new-key');
    await page.setViewportSize(PHONE);
    await shot(page, 'account-3-new-key-phone');
    await assertFitsWidth(page);
    await page.setViewportSize({ width: 1280, height: 720 });

    const ok = await verify(d, key);
    assert.equal(ok.status, 200, 'the new key passes /verify');
    assert.equal(ok.headers.get('x-auth-username'), 'alice');

    const revoked = await submit(page, row.getByRole('button', { name: 'Revoke' }), '/account');
    assert.equal(revoked.status(), 303);
    assert.equal(await page.locator('tr', { hasText: 'ChatGPT' }).count(), 0, 'the key is gone from the list');
    assert.equal(await page.locator('#new-key').count(), 0, 'the key is never shown again');

    const deadline = Date.now() + 1000;
    let status;
    do {
      status = (await verify(d, key)).status;
      if (status === 401) break;
      await sleep(25);
    } while (Date.now() < deadline);
    assert.equal(status, 401, 'the revoked key is refused within 1 s');

    // 11 minutes after sign-in the create-key form asks for the password
    // again; without it no key is made, with it one is.
    d.advance(11 * 60);
    await page.goto(`${d.base}/account`);
    assert.equal(await page.locator('#key-password').count(), 1, 'the form now has a password field');
    assert.match(await page.locator('#key-asks-password').innerText(), /more than 10 minutes ago/);
    await shot(page, 'account-4-password-again');
    await page.locator('#name').fill('Claude');
    await page.locator('#key-password').fill('not the password');
    assert.equal((await submit(page, 'Create key', '/account')).status(), 401);
    assert.equal(await page.locator('#new-key').count(), 0, 'a wrong password makes no key');
    await page.locator('#name').fill('Claude');
    await page.locator('#key-password').fill(PASSWORD);
    assert.equal((await submit(page, 'Create key', '/account')).status(), 200);
    assert.equal(await page.locator('#new-key').count(), 1, 'with the password the key is made');
    assert.equal(await page.locator('#key-password').count(), 0, 'and the form asks no more for 10 minutes');
  });

test('account page: turn on two-step sign-in with the code of an app reading the page\'s link; then sign-in needs a code',
  async (t) => {
    const d = await startPlugauth(t);
    const context = await browser.newContext();
    t.after(() => context.close());
    const page = await context.newPage();
    await page.goto(`${d.base}/account`);
    assert.equal((await signIn(page, PASSWORD, '/account')).status(), 303);
    assert.match(await page.locator('#two-step-state').innerText(), /^Off/);

    assert.equal((await submit(page, 'Set up two-step sign-in', '/account')).status(), 200);
    const secret = (await page.locator('#totp-secret').innerText()).trim();
    const uri = await page.locator('#totp-uri').getAttribute('href');
    assert.match(secret, /^[A-Z2-7]{32}$/, 'a 160-bit secret in base32');
    assert.ok(uri.startsWith('otpauth://totp/127.0.0.1:alice?') && uri.includes(`secret=${secret}`), uri);
    await shot(page, 'two-step-1-setup');
    await page.setViewportSize(PHONE);
    await shot(page, 'two-step-2-setup-phone');
    await assertFitsWidth(page);
    await page.setViewportSize({ width: 1280, height: 720 });

    const code = appCode(uri);
    await page.locator('#totp').fill(code);
    // The form asks for the password in the same form (SPEC §8.16): with a
    // wrong one nothing is turned on and the same setup is shown again.
    assert.equal(await page.locator('#on-password').count(), 1, 'turning on asks for the password');
    await page.locator('#on-password').fill('not the password');
    assert.equal((await submit(page, 'Turn on', '/account')).status(), 401, 'a wrong password turns nothing on');
    assert.equal((await page.locator('#totp-secret').innerText()).trim(), secret, 'the same setup again');
    await page.locator('#totp').fill(code);
    await page.locator('#on-password').fill(PASSWORD);
    assert.equal((await submit(page, 'Turn on', '/account')).status(), 303);
    assert.match(await page.locator('#two-step-state').innerText(), /^On/);
    assert.equal(await page.locator('#totp-secret').count(), 0, 'the secret is not shown again');
    await shot(page, 'two-step-3-on');

    // Signed out, the password alone no longer signs in, nor does the code
    // that turned two-step sign-in on.
    await submit(page, 'Sign out', '/account');
    const refused = await signIn(page, PASSWORD, '/account');
    assert.equal(refused.status(), 401);
    assert.equal(await page.getByRole('alert').innerText(), 'The user name, password or authenticator code is wrong.');
    assert.equal((await signIn(page, PASSWORD, '/account', code)).status(), 401);
    await shot(page, 'two-step-4-code-needed');

    d.advance(60);
    const signedIn = await signIn(page, PASSWORD, '/account', appCode(uri, 60));
    assert.equal(signedIn.status(), 303);
    assert.equal(await page.locator('h1').innerText(), 'Your API keys');

    d.advance(120);
    await page.locator('#totp').fill(appCode(uri, 120));
    assert.equal(await page.locator('#off-password').count(), 1, 'turning off asks for the password');
    await page.locator('#off-password').fill(PASSWORD);
    assert.equal((await submit(page, 'Turn off', '/account')).status(), 303);
    assert.match(await page.locator('#two-step-state').innerText(), /^Off/);
  });

test('the pages refuse to be framed: X-Frame-Options DENY, CSP frame-ancestors \'none\', and Chromium obeys',
  async (t) => {
    const d = await startPlugauth(t);
    const context = await browser.newContext();
    t.after(() => context.close());
    const page = await context.newPage();
    const authorize = authorizeUrl(d, { state: b64url(randomBytes(16)), challenge: pkcePair().challenge });
    for (const url of [authorize, `${d.base}/account`]) {
      const response = await page.goto(url);
      const headers = response.headers();
      assert.equal(headers['x-frame-options'], 'DENY', `X-Frame-Options on ${new URL(url).pathname}`);
      assert.match(headers['content-security-policy'] ?? '', /(^|;)\s*frame-ancestors 'none'\s*(;|$)/,
        `CSP frame-ancestors on ${new URL(url).pathname}`);
    }

    // Another origin frames /authorize, /account and, as a control showing
    // that framing itself works here, /healthz (which sends no framing headers).
    d.callback.frame([authorize, `${d.base}/account`, `${d.base}/healthz`]);
    await page.goto(`${d.callback.origin}/frame`);
    await page.waitForLoadState('load');
    const frameOf = async (id) => (await page.locator(`#${id}`).elementHandle()).contentFrame();
    const control = await frameOf('f2');
    assert.match(await control.locator('body').innerText(), /"status":"ok"/, 'the control frame renders');
    for (const id of ['f0', 'f1']) {
      const frame = await frameOf(id);
      assert.ok(!frame.url().startsWith(d.base), `frame ${id} was not allowed to load plugauth (${frame.url()})`);
      assert.equal(await frame.locator('#username').count(), 0, `frame ${id} shows no sign-in form`);
      assert.equal(await frame.locator('form').count(), 0, `frame ${id} shows no form`);
    }
    await shot(page, 'framing');
  });

test('no JavaScript needed, on a phone-sized screen: the whole flow with JavaScript disabled at 390×844', async (t) => {
  const context = await browser.newContext({ javaScriptEnabled: false, viewport: PHONE });
  t.after(() => context.close());
  await signInAndAllow(t, context, 'nojs-phone');
});

// --- https behind Caddy: the __Host- cookies in a real browser ----------------

// Caddy (/usr/bin/caddy) serving https with its own local CA: the plugin's
// domain auth.plugin.test proxied to plugauth, and a sibling site
// evil.plugin.test serving the files in `evilDir` (the attacker's page).
async function startCaddy(t, { port, upstreamPort, evilDir }) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'plugauth-caddy-'));
  const caddyfile = `{
	admin off
	local_certs
	skip_install_trust
	auto_https disable_redirects
	storage file_system ${dir}/store
}
https://auth.plugin.test:${port} {
	tls internal
	reverse_proxy 127.0.0.1:${upstreamPort}
}
https://evil.plugin.test:${port} {
	tls internal
	root * ${evilDir}
	file_server
}
`;
  writeFileSync(path.join(dir, 'Caddyfile'), caddyfile);
  let log = '';
  const proc = spawn(process.env.CADDY || '/usr/bin/caddy', ['run', '--config', path.join(dir, 'Caddyfile'), '--adapter', 'caddyfile'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir } });
  proc.stdout.on('data', (d) => { log += d; });
  proc.stderr.on('data', (d) => { log += d; });
  const exited = new Promise((r) => proc.on('exit', r));
  t.after(async () => {
    proc.kill('SIGTERM');
    await Promise.race([exited, sleep(5000)]);
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  // Ready once it listens (its certificates are made on start).
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`caddy exited early (${proc.exitCode}):\n${log}`);
    const open = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (open && /serving initial configuration|certificate obtained successfully/.test(log)) break;
    if (Date.now() > deadline) throw new Error(`caddy did not listen on ${port} within 15 s:\n${log}`);
    await sleep(100);
  }
}

const unescapeHtml = (s) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<')
  .replace(/&gt;/g, '>').replace(/&amp;/g, '&');
const escapeHtml = (s) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

test('https behind Caddy: the cookies are __Host- (Secure, Path=/, host-only) in Chromium, and a form for a cookie planted from a sibling site is refused',
  async (t) => {
    const caddyPort = await freePort();
    const site = `https://auth.plugin.test:${caddyPort}`;
    const d = await startPlugauth(t, { issuer: site });
    const evilDir = mkdtempSync(path.join(os.tmpdir(), 'plugauth-evil-'));
    t.after(() => rmSync(evilDir, { recursive: true, force: true }));
    await startCaddy(t, { port: caddyPort, upstreamPort: Number(new URL(d.base).port), evilDir });
    const viaCaddy = { ...d, base: site };

    // The attacker: a client of their own, and their own visit to its
    // /authorize, which gives them a pre-session cookie and a form token
    // minted for it.
    const reg = await fetch(`${d.base}/register`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ redirect_uris: ['https://evil.example/cb'], client_name: 'Notes Helper' }),
    });
    assert.equal(reg.status, 201);
    const attackerClient = await reg.json();
    const own = await fetch(`${d.base}/authorize?${new URLSearchParams({
      response_type: 'code', client_id: attackerClient.client_id, redirect_uri: 'https://evil.example/cb',
      scope: 'notes:read', state: 'st', code_challenge: pkcePair().challenge, code_challenge_method: 'S256' })}`);
    assert.equal(own.status, 200);
    const setCookies = own.headers.getSetCookie();
    const attackerCookie = setCookies.map((c) => c.split(';')[0]).find((c) => c.startsWith('__Host-plugauth_csrf='));
    assert.ok(attackerCookie, `an https issuer sets __Host- cookies: ${setCookies.join(' | ')}`);
    assert.ok(setCookies.every((c) => /;\s*Secure/i.test(c) && /;\s*Path=\//.test(c) && !/;\s*Domain=/i.test(c)),
      `every page cookie is Secure, Path=/ and has no Domain: ${setCookies.join(' | ')}`);
    const attackerValue = attackerCookie.split('=').slice(1).join('=');
    const fields = Object.fromEntries([...(await own.text()).matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)]
      .map((m) => [unescapeHtml(m[1]), unescapeHtml(m[2])]));
    assert.ok(fields.csrf, 'the attacker has a form token');
    fields.action = 'allow';

    // The attacker's page on a sibling site: it plants the attacker's cookie
    // every way a sibling can, then posts the attacker's consent form.
    writeFileSync(path.join(evilDir, 'index.html'), `<!doctype html><title>Win a prize</title>
<script>
document.cookie = "__Host-plugauth_csrf=${attackerValue}; Domain=plugin.test; Path=/; Secure";
document.cookie = "__Host-plugauth_session=${attackerValue}; Domain=plugin.test; Path=/; Secure";
document.cookie = "plugauth_csrf=${attackerValue}; Domain=plugin.test; Path=/; Secure";
document.cookie = "__Host-plugauth_csrf=${attackerValue}; Path=/; Secure";
</script>
<form id="f" method="post" action="${site}/authorize">
${Object.entries(fields).map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`).join('\n')}
<button type="submit">Claim your prize</button>
</form>`);

    // The victim signs in on the plugin's domain in Chromium.
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    t.after(() => context.close());
    const page = await context.newPage();
    const { verifier, challenge } = pkcePair();
    const state = b64url(randomBytes(16));
    assert.equal((await page.goto(authorizeUrl(viaCaddy, { state, challenge }))).status(), 200);
    assert.equal((await signIn(page)).status(), 200);
    assert.equal(await page.locator('h1').innerText(), 'Allow access?');
    const cookies = await context.cookies(site);
    const names = cookies.map((c) => c.name).sort();
    assert.deepEqual(names, ['__Host-plugauth_csrf', '__Host-plugauth_session'], JSON.stringify(cookies));
    for (const c of cookies) {
      assert.equal(c.secure, true, `${c.name} is Secure`);
      assert.equal(c.path, '/', `${c.name} has Path=/`);
      assert.equal(c.domain, 'auth.plugin.test', `${c.name} is host-only (no Domain)`);
      assert.equal(c.httpOnly, true, `${c.name} is HttpOnly`);
    }

    // The victim visits the attacker's page and clicks.
    await page.goto(`https://evil.plugin.test:${caddyPort}/`);
    const after = await context.cookies(site);
    assert.ok(!after.some((c) => c.name.startsWith('__Host-') && c.value === attackerValue),
      `Chromium let no sibling site set a __Host- cookie for the plugin's domain: ${JSON.stringify(after)}`);
    assert.ok(after.some((c) => c.name === 'plugauth_csrf' && c.value === attackerValue),
      'the sibling could plant a cookie without the prefix (which plugauth does not read over https)');
    const posted = page.waitForResponse((r) => r.request().method() === 'POST' && r.url() === `${site}/authorize`);
    await page.getByRole('button', { name: 'Claim your prize' }).click();
    const refused = await posted;
    await page.waitForLoadState('load');
    assert.equal(refused.status(), 403, 'a form minted for the attacker\'s cookie is refused');
    assert.equal(refused.headers().location, undefined, 'and redirects nowhere');
    assert.match(await page.locator('main').innerText(), /This form expired/);
    await shot(page, 'https-planted-cookie-refused');
    assert.ok(!page.url().startsWith('https://evil.example'), page.url());

    // The victim's own flow still works over https: straight to consent,
    // allow, land on the callback, the code buys tokens.
    assert.equal((await page.goto(authorizeUrl(viaCaddy, { state, challenge }))).status(), 200);
    assert.equal(await page.locator('h1').innerText(), 'Allow access?');
    const landing = await landOnCallback(page, viaCaddy, 'Allow');
    assert.equal(landing.searchParams.get('iss'), site);
    assert.equal(d.callback.hits.length, 1, 'only the victim\'s own consent reached a redirect URI');
    const token = await exchangeCode(d, landing.searchParams.get('code'), verifier);
    assert.equal(token.status, 200, JSON.stringify(token.body));
  });

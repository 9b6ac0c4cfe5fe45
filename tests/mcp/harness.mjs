// Runs the real parts the MCP tests talk to, all on free loopback ports:
// plugauth (the binary under test, fresh data directory, shifted clock), the
// example MCP server (examples/mcp/server.mjs) and Caddy with the shipped
// examples/mcp/Caddyfile, ports rewritten. Also a "browser" that completes
// plugauth's sign-in and consent forms over plain HTTP.
//
// Every process started here is killed by stopAll() (call it from after()),
// and, as a last resort, when this test process exits.
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const binary = process.env.PLUGAUTH_BINARY || path.join(root, 'build/plugauth');
const caddyBinary = process.env.CADDY || '/usr/bin/caddy';
export const PASSWORD = 'correct horse battery staple';
export const SCOPE = 'mcp:tools';

const execFileP = promisify(execFile);
const children = new Set();
// The plugauth daemons started here: stopAll() fails if one of them died
// before it was stopped, exited badly, or logged a sanitizer report.
// Otherwise a crash shows up only as some client's "connection closed".
const daemons = new Set();
const tempDirs = [];

process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
  for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
});

export function tempDir(prefix = 'plugauth-mcp-') {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(d);
  return d;
}

// A port nothing listens on now. The kernel may hand out a port again once
// its probe socket is closed, before the server meant for it binds (it gave
// Caddy and plugauth the same port once), so ports given out here are never
// given out again in this process.
const givenPorts = new Set();
export async function freePort() {
  for (;;) {
    const server = net.createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address();
    server.close();
    await once(server, 'close');
    if (!givenPorts.has(port)) {
      givenPorts.add(port);
      return port;
    }
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Starts a process whose output goes to logFile; remembers it for cleanup.
function startProcess(command, args, { logFile, env, cwd } = {}) {
  const log = fs.openSync(logFile, 'a');
  const child = spawn(command, args, { stdio: ['ignore', log, log], env: { ...process.env, ...env }, cwd });
  fs.closeSync(log);
  child.logFile = logFile;
  children.add(child);
  child.on('exit', () => {
    children.delete(child);
    if (!child.stopping) child.diedEarly = true;
  });
  return child;
}

// Polls url until anything answers over HTTP, for at most `seconds`; fails
// early, with the log, if the process died.
async function waitReady(name, child, url, seconds = 20) {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`${name} exited during start-up; its log:\n${fs.readFileSync(child.logFile, 'utf8')}`);
    try {
      await fetch(url, { signal: AbortSignal.timeout(1000), redirect: 'manual' });
      return;
    } catch {
      await sleep(50);
    }
  }
  throw new Error(`${name} did not answer on ${url} within ${seconds} s; its log:\n${fs.readFileSync(child.logFile, 'utf8')}`);
}

async function stopProcess(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.stopping = true;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

export async function stopAll() {
  await Promise.all([...children].map(stopProcess));
  const problems = [];
  for (const child of daemons) {
    const log = fs.existsSync(child.logFile) ? fs.readFileSync(child.logFile, 'utf8') : '';
    let problem = null;
    if (child.diedEarly) problem = `died before the test stopped it (status ${child.exitCode}, signal ${child.signalCode})`;
    else if (child.exitCode !== 0) problem = `ended with status ${child.exitCode}, signal ${child.signalCode} on SIGTERM`;
    else if (/Sanitizer|runtime error:/.test(log)) problem = 'logged a sanitizer report';
    if (problem) problems.push(`plugauth serve (${child.logFile}) ${problem}; its log:\n${log.slice(-20000)}`);
  }
  daemons.clear();
  if (problems.length) throw new Error(problems.join('\n\n'));
}

// The plugauth daemon under test. `config` is written to <data>/plugauth.json;
// `advance(seconds)` moves its clock (PLUGAUTH_TEST_CLOCK_OFFSET_FILE, re-read
// on every use), so no test sleeps to wait for expiry.
export class Plugauth {
  constructor(dir, config, port) {
    this.dir = dir;
    this.data = path.join(dir, 'data');
    fs.mkdirSync(this.data, { mode: 0o700 });
    fs.writeFileSync(path.join(this.data, 'plugauth.json'), JSON.stringify(config, null, 2));
    this.offsetFile = path.join(dir, 'clock-offset');
    fs.writeFileSync(this.offsetFile, '0');
    this.port = port;
    this.issuer = `http://127.0.0.1:${port}`;
  }

  async cli(args, { stdin } = {}) {
    return new Promise((resolve, reject) => {
      const child = execFile(binary, [...args, '--data', this.data, '--json'], { timeout: 30000 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`plugauth ${args.join(' ')} failed: ${err.message}\n${stderr}`));
        else resolve(stdout.trim() ? JSON.parse(stdout) : null);
      });
      if (stdin !== undefined) child.stdin.end(stdin);
    });
  }

  async addUser(name, password = PASSWORD) {
    return this.cli(['user', 'add', name, '--password-stdin'], { stdin: password + '\n' });
  }

  async start() {
    this.process = startProcess(binary, ['serve', '--listen', `127.0.0.1:${this.port}`, '--data', this.data], {
      logFile: path.join(this.dir, 'plugauth.log'),
      env: { PLUGAUTH_TEST_CLOCK_OFFSET_FILE: this.offsetFile },
    });
    daemons.add(this.process);
    await waitReady('plugauth', this.process, `${this.issuer}/healthz`);
  }

  advance(seconds) {
    fs.writeFileSync(this.offsetFile, String(Math.trunc(seconds)));
  }

  log() {
    return fs.existsSync(path.join(this.dir, 'plugauth.log')) ? fs.readFileSync(path.join(this.dir, 'plugauth.log'), 'utf8') : '';
  }

  url(p) {
    return this.issuer + p;
  }
}

// A fresh plugauth with user alice (role `user` carries mcp:tools), started.
// `configFor(ports)` returns plugauth.json given the ports chosen here.
export async function startPlugauth(configFor, { ports = {} } = {}) {
  const dir = tempDir();
  const port = await freePort();
  const config = configFor({ ...ports, plugauth: port });
  const pa = new Plugauth(dir, config, port);
  await pa.cli(['role', 'add', 'user', '--scope', SCOPE]);
  await pa.addUser('alice');
  await pa.start();
  return pa;
}

// The example: plugauth, examples/mcp/server.mjs and Caddy with
// examples/mcp/Caddyfile (its ports 7070, 3000 and 8080 replaced by free ones).
// `extraConfig` is merged into plugauth.json; `resources(mcpUrl)` may replace
// the default resource list.
export async function startStack({ extraConfig = {}, resources } = {}) {
  const caddyPort = await freePort();
  const mcpServerPort = await freePort();
  const mcpUrl = `http://127.0.0.1:${caddyPort}/mcp`;
  const pa = await startPlugauth(() => ({
    resources: resources ? resources(mcpUrl) : [{ uri: mcpUrl, scopes_supported: [SCOPE] }],
    scopes: { [SCOPE]: 'Use the notes tools' },
    cors_origins: ['*'],
    ...extraConfig,
  }));
  const dir = pa.dir;

  const server = startProcess(process.execPath, [path.join(root, 'examples/mcp/server.mjs'), String(mcpServerPort)], {
    logFile: path.join(dir, 'mcp-server.log'),
    cwd: path.join(root, 'examples/mcp'),
  });
  await waitReady('MCP server', server, `http://127.0.0.1:${mcpServerPort}/mcp`);

  const caddyfile = fs
    .readFileSync(path.join(root, 'examples/mcp/Caddyfile'), 'utf8')
    .replaceAll('127.0.0.1:7070', `127.0.0.1:${pa.port}`)
    .replaceAll('127.0.0.1:3000', `127.0.0.1:${mcpServerPort}`)
    .replaceAll('127.0.0.1:8080', `127.0.0.1:${caddyPort}`);
  fs.writeFileSync(path.join(dir, 'Caddyfile'), caddyfile);
  // Caddy keeps certificates and autosaved config under $HOME/XDG dirs: keep
  // them in the temp dir too.
  const caddy = startProcess(caddyBinary, ['run', '--config', path.join(dir, 'Caddyfile'), '--adapter', 'caddyfile'], {
    logFile: path.join(dir, 'caddy.log'),
    env: { HOME: dir, XDG_DATA_HOME: path.join(dir, 'xdg-data'), XDG_CONFIG_HOME: path.join(dir, 'xdg-config') },
  });
  await waitReady('caddy', caddy, `http://127.0.0.1:${caddyPort}/`);
  return { pa, mcpUrl, caddyPort, mcpServerPort, dir };
}

// The <input type="hidden"> fields of a page (plugauth's pages write them as
// <input type="hidden" name="…" value="…">, attribute order aside).
export function hiddenFields(html) {
  const fields = {};
  for (const [tag] of html.matchAll(/<input\b[^>]*>/gi)) {
    const attrs = {};
    for (const m of tag.matchAll(/([a-zA-Z_:-]+)\s*=\s*("([^"]*)"|'([^']*)')/g)) attrs[m[1].toLowerCase()] = m[3] ?? m[4];
    if ((attrs.type || '').toLowerCase() === 'hidden' && attrs.name) fields[attrs.name] = decodeEntities(attrs.value ?? '');
  }
  return fields;
}

function decodeEntities(s) {
  return s
    .replace(/&#(\d+);/g, (_, n) => String.fromCodePoint(Number(n)))
    .replace(/&#x([0-9a-f]+);/gi, (_, n) => String.fromCodePoint(parseInt(n, 16)))
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

// A user agent on plugauth's sign-in and consent pages: fetch with its own
// cookie jar, redirects never followed.
export class Browser {
  constructor() {
    this.cookies = new Map();
  }

  async request(url, init = {}) {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set('Cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(url, { ...init, headers, redirect: 'manual', signal: AbortSignal.timeout(10000) });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq > 0) this.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
    return res;
  }

  async postForm(url, fields) {
    return this.request(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
  }

  // Opens the authorization URL, signs in as `username`, allows, and returns
  // the 303's Location (not followed). Throws, with the page, on anything else.
  async authorize(authorizationUrl, { username = 'alice', password = PASSWORD, action = 'allow' } = {}) {
    const url = new URL(authorizationUrl);
    const page = await this.request(url);
    const pageText = await page.text();
    if (page.status !== 200) throw new Error(`GET /authorize answered ${page.status}: ${pageText}`);
    const signIn = hiddenFields(pageText);
    if (!signIn.csrf) throw new Error(`the sign-in page has no csrf field: ${pageText}`);
    const formUrl = new URL('/authorize', url);
    const consent = await this.postForm(formUrl, { ...signIn, action: 'login', username, password });
    const consentText = await consent.text();
    if (consent.status !== 200) throw new Error(`signing in answered ${consent.status}: ${consentText}`);
    const done = await this.postForm(formUrl, { ...hiddenFields(consentText), action });
    if (done.status !== 303) throw new Error(`consent answered ${done.status}: ${await done.text()}`);
    this.consentPage = consentText;
    return new URL(done.headers.get('location'));
  }
}

// A CA and a server certificate for 127.0.0.1 made with the openssl CLI, for
// the local HTTPS server that serves client ID metadata documents.
export async function makeTestCa(dir) {
  const f = (n) => path.join(dir, n);
  const ssl = (...args) => execFileP('openssl', args, { timeout: 60000 });
  await ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
    '-subj', '/CN=plugauth test CA', '-keyout', f('ca.key'), '-out', f('ca.pem'),
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  await ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=127.0.0.1',
    '-keyout', f('server.key'), '-out', f('server.csr'));
  fs.writeFileSync(f('server.ext'),
    'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n');
  await ssl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial',
    '-days', '2', '-extfile', f('server.ext'), '-out', f('server.pem'));
  return { caFile: f('ca.pem'), cert: fs.readFileSync(f('server.pem')), key: fs.readFileSync(f('server.key')) };
}

// fetch with a deadline, redirects not followed.
export function get(url, init = {}) {
  return fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(10000), ...init });
}

// --- the code flow by hand, for tests that need a token but test something else ---

export function pkce() {
  const verifier = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url');
  return crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)).then((d) => ({
    verifier,
    challenge: Buffer.from(d).toString('base64url'),
  }));
}

export function authorizeUrl(pa, { clientId, redirectUri, resource, challenge, state = 'st-' + crypto.randomUUID() }) {
  const u = new URL(pa.url('/authorize'));
  u.search = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: redirectUri,
    scope: SCOPE,
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...(resource ? { resource } : {}),
  }).toString();
  return u;
}

export async function register(pa, body, headers = {}) {
  const r = await get(pa.url('/register'), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: r.status, headers: r.headers, body: await r.json().catch(() => null) };
}

export const publicClient = (redirectUri) => ({
  client_name: 'refusals test',
  redirect_uris: [redirectUri],
  token_endpoint_auth_method: 'none',
});

export function tokenRequest(pa, params) {
  return get(pa.url('/token'), {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params).toString(),
  });
}

// The code flow for a public client, returning /token's JSON.
export async function obtainToken(pa, { clientId, redirectUri, resource }) {
  const { verifier, challenge } = await pkce();
  const location = await new Browser().authorize(authorizeUrl(pa, { clientId, redirectUri, resource, challenge }));
  const code = location.searchParams.get('code');
  const r = await tokenRequest(pa, {
    grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: clientId, code_verifier: verifier, resource,
  });
  const body = await r.json();
  assert.equal(r.status, 200, JSON.stringify(body));
  return body;
}

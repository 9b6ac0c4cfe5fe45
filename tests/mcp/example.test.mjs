// Acceptance 4 of issue 5: `curl -i` on the example MCP server (through the
// shipped Caddyfile) without a token shows 401 and a Bearer challenge whose
// resource_metadata document names plugauth as the authorization server.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';

import { freePort, get, obtainToken, publicClient, register, startStack, stopAll } from './harness.mjs';

const execFileP = promisify(execFile);
let stack;

before(async () => {
  stack = await startStack();
});
after(stopAll);

// Splits `curl -i` output into status, headers (lower-case names) and body.
function parseCurl(out) {
  const [head, ...rest] = out.split(/\r?\n\r?\n/);
  const [statusLine, ...lines] = head.split(/\r?\n/);
  const headers = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\n\n') };
}

test('curl -i on the MCP endpoint without a token: 401 with resource_metadata naming plugauth (RFC 6750 §3, RFC 9728 §5.1)', async () => {
  const { stdout } = await execFileP('curl', ['-si', '--max-time', '10', '-X', 'POST', stack.mcpUrl,
    '-H', 'Content-Type: application/json', '-H', 'Accept: application/json, text/event-stream',
    '--data', '{"jsonrpc":"2.0","id":1,"method":"tools/list"}']);
  const r = parseCurl(stdout);
  assert.equal(r.status, 401, stdout);
  const challenge = r.headers['www-authenticate'] ?? '';
  assert.match(challenge, /^Bearer /, stdout);
  // RFC 6750 §3.1: no error code when the request carried no credentials.
  assert.doesNotMatch(challenge, /error=/, challenge);
  const m = challenge.match(/resource_metadata="([^"]+)"/);
  assert.ok(m, `no resource_metadata in ${challenge}`);
  const prmUrl = m[1];
  assert.ok(prmUrl.startsWith(`${stack.pa.issuer}/.well-known/oauth-protected-resource`), prmUrl);

  const prm = await get(prmUrl);
  assert.equal(prm.status, 200);
  const doc = await prm.json();
  assert.equal(doc.resource, stack.mcpUrl, JSON.stringify(doc));
  assert.deepEqual(doc.authorization_servers, [stack.pa.issuer]);
  assert.deepEqual(doc.bearer_methods_supported, ['header']);
  assert.ok(doc.scopes_supported.includes('mcp:tools'), JSON.stringify(doc));

  const as = await (await get(`${stack.pa.issuer}/.well-known/oauth-authorization-server`)).json();
  assert.equal(as.issuer, stack.pa.issuer);
  assert.ok(as.code_challenge_methods_supported.includes('S256'));
});

test('a forged bearer token through Caddy: 401 invalid_token, body and challenge from plugauth unchanged', async () => {
  const r = await get(stack.mcpUrl, {
    method: 'POST',
    headers: { Authorization: 'Bearer not-a-token', 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
    body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
  });
  assert.equal(r.status, 401);
  const challenge = r.headers.get('www-authenticate');
  assert.match(challenge, /error="invalid_token"/);
  assert.match(challenge, /resource_metadata="/);
  assert.equal((await r.json()).error, 'invalid_token');
});

test('the protected-resource metadata is also reachable on the MCP origin (RFC 9728 §3.1 path insertion)', async () => {
  const origin = new URL(stack.mcpUrl).origin;
  const r = await get(`${origin}/.well-known/oauth-protected-resource/mcp`);
  assert.equal(r.status, 200);
  const doc = await r.json();
  assert.equal(doc.resource, stack.mcpUrl);
  assert.deepEqual(doc.authorization_servers, [stack.pa.issuer]);
});

test('identity headers a client sends are dropped: the MCP server sees the user plugauth verified', async () => {
  const redirectUri = `http://127.0.0.1:${await freePort()}/callback`;
  const reg = await register(stack.pa, publicClient(redirectUri));
  assert.equal(reg.status, 201, JSON.stringify(reg.body));
  const { access_token } = await obtainToken(stack.pa, { clientId: reg.body.client_id, redirectUri, resource: stack.mcpUrl });

  const forged = { 'X-Auth-Subject': 'mallory', 'X-Auth-Username': 'mallory', 'X-Auth-Scope': 'admin' };
  const without = await mcpCall({ ...forged }, 'tools/list');
  assert.equal(without.status, 401, 'forged identity headers alone must not get in');
  await without.arrayBuffer();

  const r = await mcpCall({ Authorization: `Bearer ${access_token}`, ...forged }, 'tools/call', { name: 'whoami', arguments: {} });
  assert.equal(r.status, 200);
  const text = await r.text();
  const message = JSON.parse(text.startsWith('{') ? text : text.match(/^data: (.*)$/m)[1]);
  const caller = JSON.parse(message.result.content[0].text);
  assert.equal(caller.name, 'alice');
  assert.equal(caller.scope, 'mcp:tools');
  assert.notEqual(caller.subject, 'mallory');
});

// One JSON-RPC request to the MCP endpoint through Caddy.
function mcpCall(headers, method, params) {
  return get(stack.mcpUrl, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...headers },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, ...(params ? { params } : {}) }),
  });
}

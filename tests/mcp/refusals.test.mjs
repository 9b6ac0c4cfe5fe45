// What plugauth must refuse for MCP clients, each with the RFC's error and
// never a 5xx: a token used at a resource it was not minted for, unknown
// resources (RFC 8707 invalid_target), unsafe registrations (RFC 7591),
// client ID metadata documents that lie about their URL or live on private
// addresses, the registration policies and rate limit (SPEC §8.9), and the
// CORS preflight browser-based MCP clients send.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import https from 'node:https';
import { after, before, describe, test } from 'node:test';

import {
  Browser, SCOPE, authorizeUrl, freePort, get, makeTestCa, obtainToken, pkce, register, publicClient, startPlugauth, startStack,
  stopAll, tempDir, tokenRequest,
} from './harness.mjs';

const scopes = { [SCOPE]: 'Use the notes tools' };

function assertNo5xx(status, what) {
  assert.ok(status < 500, `${what} answered ${status}`);
}

// A local HTTPS server for client ID metadata documents: path → document.
async function documentServer(ca, docs) {
  const server = https.createServer({ cert: ca.cert, key: ca.key }, (req, res) => {
    server.hits.push(req.url);
    const doc = docs(server.port)[req.url];
    if (!doc) return res.writeHead(404).end();
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(doc));
  });
  server.hits = [];
  server.port = await freePort();
  server.listen(server.port, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

let ca;
let docServer;
let redirectUri;

before(async () => {
  ca = await makeTestCa(tempDir('plugauth-mcp-ca-'));
  redirectUri = `http://127.0.0.1:${await freePort()}/callback`;
  docServer = await documentServer(ca, (port) => ({
    '/client.json': {
      client_id: `https://127.0.0.1:${port}/client.json`,
      client_name: 'honest document',
      redirect_uris: [redirectUri],
      token_endpoint_auth_method: 'none',
    },
    '/code-grants.json': {
      client_id: `https://127.0.0.1:${port}/code-grants.json`,
      client_name: 'document naming its grants',
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'none',
    },
    '/client-credentials.json': {
      client_id: `https://127.0.0.1:${port}/client-credentials.json`,
      client_name: 'document asking for client_credentials',
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      token_endpoint_auth_method: 'none',
    },
    '/mismatch.json': {
      client_id: `https://127.0.0.1:${port}/someone-else.json`,
      client_name: 'lying document',
      redirect_uris: [redirectUri],
      token_endpoint_auth_method: 'none',
    },
  }));
});
after(async () => {
  docServer?.closeAllConnections();
  docServer?.close();
  await stopAll();
});

describe('resources (RFC 8707) with two MCP servers configured', () => {
  let stack;
  let otherResource;
  let clientId;

  before(async () => {
    stack = await startStack({
      resources: (mcpUrl) => {
        otherResource = `${new URL(mcpUrl).origin}/other-mcp`;
        return [
          { uri: mcpUrl, scopes_supported: [SCOPE] },
          { uri: otherResource, scopes_supported: [SCOPE] },
        ];
      },
      extraConfig: { cors_origins: ['https://client.example'] },
    });
    const reg = await register(stack.pa, publicClient(redirectUri));
    assert.equal(reg.status, 201, JSON.stringify(reg.body));
    clientId = reg.body.client_id;
  });

  test('a token minted for resource A is refused at resource B: /verify?resource=B → 401 invalid_token', async () => {
    const t = await obtainToken(stack.pa, { clientId, redirectUri, resource: stack.mcpUrl });
    const atA = await get(stack.pa.url(`/verify?resource=${encodeURIComponent(stack.mcpUrl)}`), {
      headers: { Authorization: `Bearer ${t.access_token}` },
    });
    assert.equal(atA.status, 200, 'the token works where it belongs');
    const atB = await get(stack.pa.url(`/verify?resource=${encodeURIComponent(otherResource)}`), {
      headers: { Authorization: `Bearer ${t.access_token}` },
    });
    assert.equal(atB.status, 401);
    const challenge = atB.headers.get('www-authenticate');
    assert.match(challenge, /^Bearer .*error="invalid_token"/);
    // The challenge points at B's metadata (RFC 9728 §5.1).
    assert.ok(challenge.includes(`resource_metadata="${stack.pa.issuer}/.well-known/oauth-protected-resource/other-mcp"`), challenge);
  });

  test('a token minted for resource B is refused by the MCP server A behind Caddy → 401 invalid_token', async () => {
    const t = await obtainToken(stack.pa, { clientId, redirectUri, resource: otherResource });
    const r = await get(stack.mcpUrl, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${t.access_token}`,
        'Content-Type': 'application/json',
        Accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    assert.equal(r.status, 401, await r.clone().text());
    assert.match(r.headers.get('www-authenticate'), /error="invalid_token"/);
    assert.equal((await r.json()).error, 'invalid_token');
  });

  // A self-registered client's errors before approval are a page, never a
  // redirect (SPEC §8.8, RFC 9700 §4.11.2: no open redirector).
  test('resource not configured at /authorize for a registered client → 400 page naming invalid_target, no redirect', async () => {
    const { challenge } = await pkce();
    const r = await get(authorizeUrl(stack.pa, {
      clientId, redirectUri, challenge, resource: 'http://127.0.0.1:1/not-configured', state: 'keep-me',
    }));
    assertNo5xx(r.status, '/authorize');
    const body = await r.text();
    assert.equal(r.status, 400, `expected an error page, got ${r.status}: ${body}`);
    assert.equal(r.headers.get('location'), null);
    assert.match(body, /invalid_target/);
  });

  test('resource not configured at /token → 400 invalid_target', async () => {
    const { verifier, challenge } = await pkce();
    const location = await new Browser().authorize(authorizeUrl(stack.pa, { clientId, redirectUri, resource: stack.mcpUrl, challenge }));
    const r = await tokenRequest(stack.pa, {
      grant_type: 'authorization_code',
      code: location.searchParams.get('code'),
      redirect_uri: redirectUri,
      client_id: clientId,
      code_verifier: verifier,
      resource: 'http://127.0.0.1:1/not-configured',
    });
    assert.equal(r.status, 400);
    assert.equal((await r.json()).error, 'invalid_target');
  });

  test('registration with redirect_uris ["http://evil.example/cb"] → 400 invalid_redirect_uri', async () => {
    const r = await register(stack.pa, publicClient('http://evil.example/cb'));
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.equal(r.body.error, 'invalid_redirect_uri');
  });

  test('CORS preflight OPTIONS /token from an allowed Origin → 204 with Access-Control-Allow-Origin', async () => {
    const r = await get(stack.pa.url('/token'), {
      method: 'OPTIONS',
      headers: {
        Origin: 'https://client.example',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type',
      },
    });
    assert.equal(r.status, 204);
    assert.equal(r.headers.get('access-control-allow-origin'), 'https://client.example');
    assert.match(r.headers.get('access-control-allow-methods'), /POST/);
    assert.match(r.headers.get('access-control-allow-headers').toLowerCase(), /content-type/);

    const stranger = await get(stack.pa.url('/token'), {
      method: 'OPTIONS',
      headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST' },
    });
    assertNo5xx(stranger.status, 'OPTIONS /token from a stranger');
    assert.equal(stranger.headers.get('access-control-allow-origin'), null, 'an origin not listed gets no CORS grant');
  });
});

describe('client ID metadata documents', () => {
  let pa;
  before(async () => {
    pa = await startPlugauth(() => ({ scopes, cimd_allow_private: true, extra_ca_file: ca.caFile }));
  });

  test('an honest document on the test CA is accepted (the control for the refusals below)', async () => {
    const { challenge } = await pkce();
    const r = await get(authorizeUrl(pa, { clientId: `https://127.0.0.1:${docServer.port}/client.json`, redirectUri, challenge }));
    assert.equal(r.status, 200, await r.text());
  });

  test('a document naming only authorization_code and refresh_token is accepted', async () => {
    const { challenge } = await pkce();
    const r = await get(authorizeUrl(pa, { clientId: `https://127.0.0.1:${docServer.port}/code-grants.json`, redirectUri, challenge }));
    assert.equal(r.status, 200, await r.text());
  });

  test('a document asking for client_credentials → 400 error page, never a redirect (SPEC §8.14: no token without a user)', async () => {
    const { challenge } = await pkce();
    const clientId = `https://127.0.0.1:${docServer.port}/client-credentials.json`;
    const r = await get(authorizeUrl(pa, { clientId, redirectUri, challenge }));
    assert.equal(r.status, 400, await r.clone().text());
    assert.equal(r.headers.get('location'), null);
    assert.match(r.headers.get('content-type'), /text\/html/);
    assert.ok(docServer.hits.includes('/client-credentials.json'), 'plugauth should have fetched the document');
    // Nor does /token hand it a token of its own.
    const t = await tokenRequest(pa, { grant_type: 'client_credentials', client_id: clientId });
    const body = await t.json();
    assert.ok(t.status >= 400 && t.status < 500, `client_credentials answered ${t.status}: ${JSON.stringify(body)}`);
    assert.equal(body.access_token, undefined);
  });

  test("a document whose client_id differs from its URL → 400 error page at /authorize, never a redirect", async () => {
    const { challenge } = await pkce();
    const r = await get(authorizeUrl(pa, { clientId: `https://127.0.0.1:${docServer.port}/mismatch.json`, redirectUri, challenge }));
    assert.equal(r.status, 400, await r.clone().text());
    assert.equal(r.headers.get('location'), null);
    assert.match(r.headers.get('content-type'), /text\/html/);
    assert.ok(docServer.hits.includes('/mismatch.json'), 'plugauth should have fetched the document');
  });
});

describe('client ID metadata documents without cimd_allow_private', () => {
  let pa;
  before(async () => {
    // The CA is trusted, so the only reason left to refuse is the address.
    pa = await startPlugauth(() => ({ scopes, extra_ca_file: ca.caFile }));
  });

  for (const host of ['127.0.0.1', 'localhost']) {
    test(`a client_id URL on ${host} (a private address) → 400 error page, the address never contacted`, async () => {
      const hitsBefore = docServer.hits.length;
      const { challenge } = await pkce();
      const r = await get(authorizeUrl(pa, { clientId: `https://${host}:${docServer.port}/client.json`, redirectUri, challenge }));
      assert.equal(r.status, 400, await r.clone().text());
      assert.equal(r.headers.get('location'), null);
      assert.equal(docServer.hits.length, hitsBefore, 'the SSRF guard must refuse before connecting');
    });
  }
});

describe('registration: closed', () => {
  let pa;
  before(async () => {
    pa = await startPlugauth(() => ({ scopes, registration: 'closed' }));
  });

  test('/register → 403 {"error":"access_denied"}; the metadata has no registration_endpoint (SPEC §8.9)', async () => {
    const r = await register(pa, publicClient(redirectUri));
    assert.equal(r.status, 403);
    assert.equal(r.body.error, 'access_denied');
    const meta = await (await get(pa.url('/.well-known/oauth-authorization-server'))).json();
    assert.equal(meta.registration_endpoint, undefined, JSON.stringify(meta));
    assert.equal(meta.client_id_metadata_document_supported, false, JSON.stringify(meta));
  });

  test('a client metadata document URL as client_id → 400 page, nothing fetched (closed means vetted clients only)', async () => {
    const url = pa.url('/authorize?response_type=code&client_id=' +
                       encodeURIComponent('https://127.0.0.1:9/client.json') +
                       '&redirect_uri=' + encodeURIComponent(redirectUri));
    const r = await get(url, { redirect: 'manual' });
    assert.equal(r.status, 400);
    assert.equal(r.headers.get('location'), null);
    assert.match(await r.text(), /registration is closed/);
  });
});

describe('registration: token', () => {
  let pa;
  before(async () => {
    pa = await startPlugauth(() => ({ scopes, registration: 'token' }));
  });

  test('no initial access token → 401 invalid_token with a Bearer challenge (RFC 7591 §3, RFC 6750 §3)', async () => {
    const r = await register(pa, publicClient(redirectUri));
    assert.equal(r.status, 401);
    assert.equal(r.body.error, 'invalid_token');
    assert.match(r.headers.get('www-authenticate'), /^Bearer .*error="invalid_token"/);
  });

  test('a bad initial access token → 401 invalid_token', async () => {
    const r = await register(pa, publicClient(redirectUri), { Authorization: 'Bearer not-a-registration-token' });
    assert.equal(r.status, 401);
    assert.equal(r.body.error, 'invalid_token');
  });

  test('a token from `plugauth registration-token create` → 201', async () => {
    const { token } = await pa.cli(['registration-token', 'create']);
    assert.ok(token);
    const r = await register(pa, publicClient(redirectUri), { Authorization: `Bearer ${token}` });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.ok(r.body.client_id);
    assert.deepEqual(r.body.redirect_uris, [redirectUri]);
  });
});

describe('registration rate limit', () => {
  let pa;
  before(async () => {
    pa = await startPlugauth(() => ({ scopes }));
  });

  test('the 21st registration in an hour from one address → 429 with Retry-After (SPEC §8.9)', async () => {
    for (let i = 1; i <= 20; i++) {
      const r = await register(pa, publicClient(redirectUri));
      assert.equal(r.status, 201, `registration ${i}: ${JSON.stringify(r.body)}`);
    }
    const r = await register(pa, publicClient(redirectUri));
    assert.equal(r.status, 429, JSON.stringify(r.body));
    assert.ok(Number(r.headers.get('retry-after')) > 0);
    // An hour later the address may register again.
    pa.advance(3601);
    const later = await register(pa, publicClient(redirectUri));
    assert.equal(later.status, 201, JSON.stringify(later.body));
  });
});

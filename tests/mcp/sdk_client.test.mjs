// The MCP TypeScript SDK's own client auth (auth() driven by
// StreamableHTTPClientTransport through an OAuthClientProvider) against
// plugauth and the example MCP server behind the shipped Caddyfile:
// 401 → RFC 9728 protected-resource metadata → RFC 8414 metadata →
// registration (RFC 7591) or a client ID metadata document → code flow with
// PKCE S256 and resource (RFC 8707) → a real tools/list → refresh.
//
// The only parts written here are the provider's storage (in memory) and its
// redirectToAuthorization, which plays the user: it signs in and allows on
// plugauth's pages over HTTP and keeps the code from the 303's Location.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import { once } from 'node:events';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError, auth } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { Browser, SCOPE, freePort, makeTestCa, startStack, stopAll, tempDir } from './harness.mjs';

// An OAuthClientProvider that keeps everything in memory, records what the
// SDK did (for the assertions), and completes sign-in and consent itself.
class TestProvider {
  constructor({ redirectUrl, clientMetadataUrl, scope }) {
    this._redirectUrl = redirectUrl;
    this._scope = scope;
    if (clientMetadataUrl) this.clientMetadataUrl = clientMetadataUrl;
    this.store = {};
    this.authorizationUrls = [];
    this.savedTokens = [];
    this.requests = [];
    this.sent = [];  // every request as it leaves, answered or not (for failure reports)
    this.browser = new Browser();
  }

  get redirectUrl() {
    return this._redirectUrl;
  }

  get clientMetadata() {
    return {
      client_name: 'MCP SDK test client',
      redirect_uris: [this._redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      ...(this._scope ? { scope: this._scope } : {}),
    };
  }

  state() {
    this.lastState = crypto.randomUUID();
    return this.lastState;
  }

  clientInformation() {
    return this.store.client;
  }

  saveClientInformation(info) {
    this.store.client = info;
  }

  tokens() {
    return this.store.tokens;
  }

  saveTokens(tokens) {
    this.store.tokens = tokens;
    this.savedTokens.push(tokens);
  }

  saveCodeVerifier(v) {
    this.store.verifier = v;
  }

  codeVerifier() {
    return this.store.verifier;
  }

  discoveryState() {
    return this.store.discovery;
  }

  saveDiscoveryState(s) {
    this.store.discovery = s;
  }

  invalidateCredentials(scope) {
    if (scope === 'all' || scope === 'client') delete this.store.client;
    if (scope === 'all' || scope === 'tokens') delete this.store.tokens;
    if (scope === 'all' || scope === 'verifier') delete this.store.verifier;
    if (scope === 'all' || scope === 'discovery') delete this.store.discovery;
  }

  // The "browser": sign in as alice and allow; keep the code plugauth
  // redirects to (the redirect URI itself is never contacted).
  async redirectToAuthorization(url) {
    this.authorizationUrls.push(new URL(url));
    const location = await this.browser.authorize(url);
    this.callback = location;
    const q = location.searchParams;
    assert.equal(`${location.origin}${location.pathname}`, this._redirectUrl);
    assert.equal(q.get('state'), this.lastState, 'state must come back unchanged');
    this.code = q.get('code');
  }
}

// Connects an MCP client, running the SDK's authorization when the server
// answers 401, as an MCP host application does: connect → UnauthorizedError
// (the provider was sent to authorize) → finishAuth(code) → connect again.
// Every request the SDK makes goes through `provider.requests` (method, URL
// without query, status), so the test can check the order of the dance.
async function connectWithAuth(mcpUrl, provider) {
  const client = new Client({ name: 'plugauth-test', version: '1.0.0' });
  const recordingFetch = async (url, init) => {
    const u = new URL(url instanceof Request ? url.url : String(url));
    provider.sent.push(`${new Date().toISOString()} ${init?.method ?? 'GET'} ${u.origin}${u.pathname}`);
    const res = await fetch(url, init);
    provider.requests.push(`${init?.method ?? 'GET'} ${u.origin}${u.pathname} ${res.status}`);
    return res;
  };
  const options = { authProvider: provider, fetch: recordingFetch };
  let transport = new StreamableHTTPClientTransport(new URL(mcpUrl), options);
  try {
    await client.connect(transport);
    return { client, transport };
  } catch (e) {
    if (!(e instanceof UnauthorizedError)) throw e;
  }
  assert.ok(provider.code, 'the SDK never sent the user to authorize');
  await transport.finishAuth(provider.code);
  transport = new StreamableHTTPClientTransport(new URL(mcpUrl), options);
  await client.connect(transport);
  return { client, transport };
}

// The `aud` claim of a JWT access token (read only; /verify checks it).
function audienceOf(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8')).aud;
}

// runFlow, and when it fails, what is needed to tell which request went
// unanswered and who held it: the requests as sent and as answered, and the
// end of each process's log.
async function runFlowReporting(stack, provider, options) {
  try {
    await runFlow(stack, provider, options);
  } catch (e) {
    const tail = (name) => {
      try {
        return fs.readFileSync(path.join(stack.dir, name), 'utf8').split('\n').slice(-40).join('\n');
      } catch {
        return '(no log)';
      }
    };
    e.message += `\n--- sent:\n${provider.sent.join('\n')}\n--- answered:\n${provider.requests.join('\n')}` +
      `\n--- plugauth.log:\n${tail('plugauth.log')}\n--- caddy.log:\n${tail('caddy.log')}` +
      `\n--- mcp-server.log:\n${tail('mcp-server.log')}\n--- at ${new Date().toISOString()}`;
    throw e;
  }
}

// The whole flow for one provider, shared by the DCR and CIMD variants.
async function runFlow(stack, provider, { expectRegistration, requestedScope = SCOPE }) {
  const { pa, mcpUrl } = stack;
  const { client } = await connectWithAuth(mcpUrl, provider);
  try {
    // The order of the dance, as the SDK made the requests: the MCP
    // server's 401, the protected-resource metadata named in its challenge,
    // plugauth's metadata, registration (DCR only), the code exchange, and
    // the same MCP request again, now accepted.
    const first = provider.requests.slice(0, expectRegistration ? 5 : 4);
    const prm = provider.requests[1].split(' ')[1];
    assert.deepEqual(first, [
      `POST ${mcpUrl} 401`,
      `GET ${prm} 200`,
      `GET ${pa.issuer}/.well-known/oauth-authorization-server 200`,
      ...(expectRegistration ? [`POST ${pa.issuer}/register 201`] : []),
      `POST ${pa.issuer}/token 200`,
    ].slice(0, first.length), provider.requests.join('\n'));
    assert.ok(prm.startsWith(`${pa.issuer}/.well-known/oauth-protected-resource`), prm);
    assert.ok(provider.requests.includes(`POST ${mcpUrl} 200`), provider.requests.join('\n'));
    assert.equal(provider.requests.filter((r) => r.includes('/register')).length, expectRegistration ? 1 : 0,
      provider.requests.join('\n'));

    // What the SDK discovered and sent.
    assert.equal(provider.store.discovery.authorizationServerUrl.replace(/\/$/, ''), pa.issuer);
    assert.equal(provider.store.discovery.resourceMetadata.resource, mcpUrl);
    const authUrl = provider.authorizationUrls[0];
    assert.equal(`${authUrl.origin}${authUrl.pathname}`, `${pa.issuer}/authorize`);
    assert.equal(authUrl.searchParams.get('code_challenge_method'), 'S256');
    assert.ok(authUrl.searchParams.get('code_challenge'));
    assert.equal(authUrl.searchParams.get('resource'), mcpUrl);
    assert.equal(authUrl.searchParams.get('scope'), requestedScope);
    // SPEC §4: offline_access is named in the token response when asked for,
    // never an API permission (whoami below shows the API scope alone).
    if (requestedScope.split(' ').includes('offline_access'))
      assert.deepEqual(provider.store.tokens.scope.split(' ').sort(), [SCOPE, 'offline_access'].sort());
    assert.equal(provider.callback.searchParams.get('iss'), pa.issuer, 'RFC 9207 iss in the authorization response');
    if (expectRegistration) assert.match(provider.store.client.client_id, /^dcr_/);
    else assert.equal(provider.store.client.client_id, provider.clientMetadataUrl);
    assert.ok(provider.store.tokens.refresh_token, 'plugauth issued no refresh token');
    assert.equal(audienceOf(provider.store.tokens.access_token), mcpUrl, 'RFC 8707: aud is the MCP server');

    // A real MCP call through Caddy with the token.
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), ['add_note', 'list_notes', 'whoami']);
    const added = await client.callTool({ name: 'add_note', arguments: { text: 'buy milk' } });
    assert.match(added.content[0].text, /Saved note #1 for alice/);
    const who = JSON.parse((await client.callTool({ name: 'whoami', arguments: {} })).content[0].text);
    assert.equal(who.name, 'alice');
    assert.equal(who.scope, SCOPE);

    // Refresh: move plugauth's clock past the access token's lifetime (900 s);
    // the next call gets 401, the SDK refreshes and retries on its own.
    const before = provider.store.tokens;
    const oldAccess = before.access_token;
    pa.advance(1000);
    const afterRefresh = await client.listTools();
    assert.equal(afterRefresh.tools.length, 3);
    const now = provider.store.tokens;
    assert.notEqual(now.access_token, oldAccess, 'no new access token after expiry');
    assert.ok(now.refresh_token && now.refresh_token !== before.refresh_token, 'refresh tokens rotate (SPEC §8.3)');
    assert.equal(audienceOf(now.access_token), mcpUrl, 'the refreshed token keeps its audience');
    assert.equal(provider.authorizationUrls.length, 1, 'the refresh must not need the user again');
    const tokenCalls = provider.requests.filter((r) => r.startsWith(`POST ${pa.issuer}/token`));
    assert.deepEqual(tokenCalls, [`POST ${pa.issuer}/token 200`, `POST ${pa.issuer}/token 200`], 'code exchange, then one refresh');
    const list = await client.callTool({ name: 'list_notes', arguments: {} });
    assert.match(list.content[0].text, /1\. buy milk/);

    // The expired token itself is refused at /verify for this resource.
    const old = await fetch(`${pa.issuer}/verify?resource=${encodeURIComponent(mcpUrl)}`, {
      headers: { Authorization: `Bearer ${oldAccess}` },
    });
    assert.equal(old.status, 401);
  } finally {
    await client.close();
  }
}

describe('MCP SDK client with dynamic client registration (RFC 7591)', () => {
  let stack;
  before(async () => {
    stack = await startStack();
  });
  after(stopAll);

  test('401 → PRM → AS metadata → /register → PKCE + resource → tools/list through Caddy → refresh', async () => {
    const redirectUrl = `http://127.0.0.1:${await freePort()}/callback`;
    const provider = new TestProvider({ redirectUrl });
    await runFlowReporting(stack, provider, { expectRegistration: true });
    // The consent screen marks a registered client as unverified and names
    // the redirect host (SPEC §3 POST /authorize).
    assert.match(provider.browser.consentPage, /registered itself and has not been verified/);
    assert.ok(provider.browser.consentPage.includes("<strong>127.0.0.1:"), "the consent page names the redirect host");
  });
});

describe('MCP SDK client asking for offline_access (SPEC §4, issue 21)', () => {
  let stack;
  before(async () => {
    stack = await startStack();
  });
  after(stopAll);

  // SDK 1.32 takes the scope from the challenge or the protected resource's
  // metadata, where offline_access never is (SPEC §4); a host that follows
  // the MCP authorization spec adds it because plugauth's metadata lists it,
  // by passing the scope to the SDK's auth() itself, as done here.
  test('plugauth lists offline_access; the SDK asks for it, gets it, and refreshes after expiry', async () => {
    const { pa, mcpUrl } = stack;
    const meta = await (await fetch(`${pa.issuer}/.well-known/oauth-authorization-server`)).json();
    assert.ok(meta.scopes_supported.includes('offline_access'), JSON.stringify(meta.scopes_supported));
    const challenge = await fetch(mcpUrl, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    assert.equal(challenge.status, 401);
    const header = challenge.headers.get('www-authenticate');
    assert.ok(!header.includes('offline_access'), header);
    const resourceMetadataUrl = new URL(/resource_metadata="([^"]+)"/.exec(header)[1]);

    const redirectUrl = `http://127.0.0.1:${await freePort()}/callback`;
    const provider = new TestProvider({ redirectUrl });
    const scope = `${SCOPE} offline_access`;
    assert.equal(await auth(provider, { serverUrl: mcpUrl, scope, resourceMetadataUrl }), 'REDIRECT');
    const authUrl = provider.authorizationUrls[0];
    assert.equal(authUrl.searchParams.get('scope'), scope);
    assert.match(provider.browser.consentPage, /stays connected/);
    assert.equal(await auth(provider, { serverUrl: mcpUrl, scope, resourceMetadataUrl, authorizationCode: provider.code }),
      'AUTHORIZED');
    const first = provider.store.tokens;
    assert.deepEqual(first.scope.split(' ').sort(), [SCOPE, 'offline_access'].sort(), JSON.stringify(first));
    assert.ok(first.refresh_token);
    assert.equal(audienceOf(first.access_token), mcpUrl);

    const client = new Client({ name: 'plugauth-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider }));
    try {
      const who = JSON.parse((await client.callTool({ name: 'whoami', arguments: {} })).content[0].text);
      assert.equal(who.scope, SCOPE, 'offline_access is never an API permission');
      pa.advance(1000);  // past the access token's 900 s: the SDK refreshes on its own
      assert.equal((await client.listTools()).tools.length, 3);
      const now = provider.store.tokens;
      assert.notEqual(now.access_token, first.access_token);
      assert.ok(now.refresh_token && now.refresh_token !== first.refresh_token);
      assert.deepEqual(now.scope.split(' ').sort(), [SCOPE, 'offline_access'].sort());
      assert.equal(audienceOf(now.access_token), mcpUrl, 'a refresh without resource keeps the audience');
      assert.equal(provider.authorizationUrls.length, 1, 'the refresh needs no user');
    } finally {
      await client.close();
    }
  });
});

describe('MCP SDK client with a client ID metadata document', () => {
  let stack;
  let docServer;
  let clientIdUrl;
  let fetched = 0;

  before(async () => {
    const dir = tempDir('plugauth-mcp-ca-');
    const ca = await makeTestCa(dir);
    const port = await freePort();
    clientIdUrl = `https://127.0.0.1:${port}/client.json`;
    const redirectUrl = `http://127.0.0.1:${await freePort()}/callback`;
    const document = {
      client_id: clientIdUrl,
      client_name: 'MCP SDK test client (metadata document)',
      redirect_uris: [redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
    docServer = https.createServer({ cert: ca.cert, key: ca.key }, (req, res) => {
      if (req.url !== '/client.json') {
        res.writeHead(404).end();
        return;
      }
      fetched++;
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'max-age=60' });
      res.end(JSON.stringify(document));
    });
    docServer.listen(port, '127.0.0.1');
    await once(docServer, 'listening');
    docServer.redirectUrl = redirectUrl;
    // The loopback document server is allowed only because of the test flag.
    stack = await startStack({ extraConfig: { cimd_allow_private: true, extra_ca_file: ca.caFile } });
    fs.writeFileSync(path.join(dir, 'client.json'), JSON.stringify(document));
  });
  after(async () => {
    docServer?.closeAllConnections();
    docServer?.close();
    await stopAll();
  });

  test('plugauth advertises client_id_metadata_document_supported', async () => {
    const meta = await (await fetch(`${stack.pa.issuer}/.well-known/oauth-authorization-server`)).json();
    assert.equal(meta.client_id_metadata_document_supported, true);
  });

  test('401 → PRM → AS metadata → URL client_id (no /register) → PKCE + resource → tools/list through Caddy → refresh', async () => {
    const provider = new TestProvider({ redirectUrl: docServer.redirectUrl, clientMetadataUrl: clientIdUrl });
    await runFlowReporting(stack, provider, { expectRegistration: false });
    assert.ok(fetched >= 1, 'plugauth never fetched the client metadata document');
    assert.ok(provider.browser.consentPage.includes('MCP SDK test client (metadata document)'),
      'the consent page names the client from its metadata document');
  });
});

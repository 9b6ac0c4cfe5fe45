// npm oauth4webapi, a strict OAuth 2 client nobody here wrote, against
// plugauth: RFC 8414 discovery with the issuer check, RFC 7591 registration,
// the authorization-code grant with PKCE S256 and RFC 8707 `resource`, the
// RFC 9207 `iss` check on the authorization response, and refresh, with
// every response validation it has left on.
//
// The one relaxation is `allowInsecureRequests`: oauth4webapi refuses plain
// http URLs, and the test daemon (like every process here) listens on
// loopback http. It changes nothing else; no other check is turned off.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import * as oauth from 'oauth4webapi';

import { Browser, SCOPE, freePort, startStack, stopAll } from './harness.mjs';

// Loopback http only (see the header comment).
const insecure = { [oauth.allowInsecureRequests]: true };

let stack;
let as;
let client;
let clientAuth;
let redirectUri;

before(async () => {
  stack = await startStack();
  redirectUri = `http://127.0.0.1:${await freePort()}/callback`;
});
after(stopAll);

test('discovery: RFC 8414 metadata whose issuer equals the issuer it was fetched for', async () => {
  const issuer = new URL(stack.pa.issuer);
  as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }));
  assert.equal(as.issuer, stack.pa.issuer);
  assert.ok(as.code_challenge_methods_supported.includes('S256'));
  assert.equal(as.authorization_response_iss_parameter_supported, true, 'RFC 9207 is advertised');
  assert.ok(as.registration_endpoint, 'registration is open by default');

  // The issuer check itself: the same document is refused for another issuer.
  const other = new URL(`http://127.0.0.1:${stack.pa.port}/other`);
  await assert.rejects(
    oauth.processDiscoveryResponse(other, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure })),
    (e) => e.code === 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED' || /issuer/i.test(e.message),
  );
});

test('registration (RFC 7591): a confidential client_secret_basic client', async () => {
  const res = await oauth.dynamicClientRegistrationRequest(
    as,
    {
      client_name: 'oauth4webapi test client',
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
    insecure,
  );
  client = await oauth.processDynamicClientRegistrationResponse(res);
  assert.match(client.client_id, /^dcr_/);
  assert.ok(client.client_secret);
  assert.deepEqual(client.redirect_uris, [redirectUri]);
  clientAuth = oauth.ClientSecretBasic(client.client_secret);
});

let tokens;

test('authorization code with PKCE S256, resource, and the iss check (RFC 7636, RFC 8707, RFC 9207)', async () => {
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const url = new URL(as.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: client.client_id,
    redirect_uri: redirectUri,
    scope: SCOPE,
    state,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    resource: stack.mcpUrl,
  }).toString();

  const callback = await new Browser().authorize(url);
  // Throws unless iss is present and equals as.issuer and state matches.
  const params = oauth.validateAuthResponse(as, client, callback, state);
  assert.equal(callback.searchParams.get('iss'), as.issuer);

  const res = await oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, redirectUri, verifier, {
    additionalParameters: { resource: stack.mcpUrl },
    ...insecure,
  });
  tokens = await oauth.processAuthorizationCodeResponse(as, client, res);
  assert.equal(tokens.token_type, 'bearer');
  assert.ok(tokens.access_token && tokens.refresh_token);
  assert.equal(tokens.scope, SCOPE);
  assert.ok(tokens.expires_in > 0);

  // The token opens the MCP server through Caddy.
  const call = await callMcp(tokens.access_token);
  assert.equal(call.status, 200, await call.clone().text());
});

test('validateAuthResponse refuses an authorization response whose iss is not the issuer (RFC 9207 §2.4)', () => {
  const forged = new URL(redirectUri);
  forged.search = new URLSearchParams({ code: 'x', state: 's', iss: 'http://127.0.0.1:1' }).toString();
  assert.throws(() => oauth.validateAuthResponse(as, client, forged, 's'), (e) => /iss/.test(e.message));
  const missing = new URL(redirectUri);
  missing.search = new URLSearchParams({ code: 'x', state: 's' }).toString();
  assert.throws(() => oauth.validateAuthResponse(as, client, missing, 's'), (e) => /iss/.test(e.message));
});

test('refresh: a new access token for the same resource; the old refresh token is rotated', async () => {
  stack.pa.advance(1000); // past the 900 s access-token lifetime
  const expired = await callMcp(tokens.access_token);
  assert.equal(expired.status, 401);
  assert.match(expired.headers.get('www-authenticate'), /error="invalid_token"/);

  const res = await oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token, {
    additionalParameters: { resource: stack.mcpUrl },
    ...insecure,
  });
  const refreshed = await oauth.processRefreshTokenResponse(as, client, res);
  assert.ok(refreshed.access_token && refreshed.access_token !== tokens.access_token);
  assert.ok(refreshed.refresh_token && refreshed.refresh_token !== tokens.refresh_token);
  assert.equal(refreshed.scope, SCOPE);
  const call = await callMcp(refreshed.access_token);
  assert.equal(call.status, 200, await call.clone().text());

  // A refresh may not widen the audience (RFC 8707 §2.2): another resource
  // at the refresh is refused.
  const widen = await oauth.refreshTokenGrantRequest(as, client, clientAuth, refreshed.refresh_token, {
    additionalParameters: { resource: 'http://127.0.0.1:1/elsewhere' },
    ...insecure,
  });
  await assert.rejects(oauth.processRefreshTokenResponse(as, client, widen), (e) => {
    assert.equal(e.error, 'invalid_target', `${e.message} ${JSON.stringify(e.cause)}`);
    return true;
  });
});

// tools/list on the example MCP server through Caddy, with a bearer token.
function callMcp(accessToken) {
  return fetch(stack.mcpUrl, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${accessToken}`,
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    signal: AbortSignal.timeout(10000),
  });
}

// The baseline plugauth's /verify is measured against: what a developer would
// otherwise hand-roll in front of a plugin — a Node `http` server that checks
// an HS256 JWT with a shared secret (npm `jose`) on every request and answers
// 200, or 401 when the token is missing or does not verify.
//
// usage:
//   node node-jose-server.mjs serve PORT   listen on 127.0.0.1:PORT
//   node node-jose-server.mjs sign         print a JWT valid for one hour
// The shared secret comes from the environment: BENCH_JWT_SECRET.
import http from 'node:http';
import { jwtVerify, SignJWT } from 'jose';

const secretText = process.env.BENCH_JWT_SECRET;
if (!secretText || secretText.length < 32) {
  console.error('node-jose-server: set BENCH_JWT_SECRET (at least 32 characters)');
  process.exit(2);
}
const secret = new TextEncoder().encode(secretText);
// Imported once: handing jwtVerify the raw bytes makes jose import a
// WebCrypto key on every request, which halves this server's throughput. The
// baseline should be the careful version of the hand-rolled server.
const verifyKey = await crypto.subtle.importKey('raw', secret, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);

async function sign() {
  const jwt = await new SignJWT({ scope: 'plugin' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('service:openai')
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(secret);
  process.stdout.write(jwt + '\n');
}

function serve(port) {
  const server = http.createServer(async (req, res) => {
    const header = req.headers.authorization ?? '';
    if (!header.startsWith('Bearer ')) {
      res.writeHead(401, { 'WWW-Authenticate': 'Bearer' });
      res.end();
      return;
    }
    try {
      const { payload } = await jwtVerify(header.slice(7), verifyKey, { algorithms: ['HS256'] });
      res.writeHead(200, { 'X-Auth-Subject': String(payload.sub ?? '') });
      res.end();
    } catch {
      res.writeHead(401, { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
      res.end();
    }
  });
  server.listen(port, '127.0.0.1');
}

const [mode, port] = process.argv.slice(2);
if (mode === 'sign') await sign();
else if (mode === 'serve' && Number(port) > 0) serve(Number(port));
else {
  console.error('usage: node node-jose-server.mjs serve PORT | sign');
  process.exit(2);
}

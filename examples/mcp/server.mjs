// A small MCP server ("notes") on the streamable HTTP transport, meant to run
// behind Caddy: Caddy asks plugauth's /verify about every request and only
// forwards the ones carrying a valid access token for this server, with the
// caller's identity in X-Auth-Subject / X-Auth-Username / X-Auth-Scope.
//
// This process does no authentication of its own, so it must listen on
// loopback (or a private network) only: whoever reaches it directly can pick
// any identity by sending the X-Auth-* headers. Caddy strips client copies of
// those headers before asking plugauth.
//
// usage: node server.mjs [PORT]      (default 3000; listens on 127.0.0.1)
// The MCP endpoint is POST /mcp (stateless mode: no session ids, one MCP
// server instance per HTTP request, answers as plain JSON; GET and DELETE
// answer 405).
import http from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

const port = Number(process.argv[2] ?? process.env.PORT ?? 3000);
const maxBody = 1 << 20;

// Each user's notes, in memory, keyed by plugauth's subject (the stable user
// id; the user name can change).
const notesBySubject = new Map();

function notesOf(subject) {
  if (!notesBySubject.has(subject)) notesBySubject.set(subject, []);
  return notesBySubject.get(subject);
}

// One McpServer per request: the identity Caddy passed on is bound into the
// tools' closures, so a tool can only ever see its caller's notes.
function notesServer(caller) {
  const server = new McpServer({ name: 'plugauth-notes', version: '1.0.0' });
  server.registerTool(
    'add_note',
    {
      title: 'Add a note',
      description: 'Saves a short note for the signed-in user.',
      inputSchema: { text: z.string().min(1).max(2000) },
    },
    async ({ text }) => {
      const notes = notesOf(caller.subject);
      notes.push({ text, at: new Date().toISOString() });
      return { content: [{ type: 'text', text: `Saved note #${notes.length} for ${caller.name}.` }] };
    },
  );
  server.registerTool(
    'list_notes',
    {
      title: 'List notes',
      description: "Lists the signed-in user's notes, oldest first.",
      inputSchema: {},
    },
    async () => {
      const notes = notesOf(caller.subject);
      const text = notes.length
        ? notes.map((n, i) => `${i + 1}. ${n.text}`).join('\n')
        : `${caller.name} has no notes yet.`;
      return { content: [{ type: 'text', text }] };
    },
  );
  server.registerTool(
    'whoami',
    {
      title: 'Who am I',
      description: 'Shows the identity and scopes plugauth verified for this request.',
      inputSchema: {},
    },
    async () => ({ content: [{ type: 'text', text: JSON.stringify(caller) }] }),
  );
  return server;
}

function readJson(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > maxBody) {
        reject(Object.assign(new Error('request body too large'), { status: 413 }));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        reject(Object.assign(new Error('the body is not JSON'), { status: 400 }));
      }
    });
    req.on('error', reject);
  });
}

function jsonRpcError(res, status, message) {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
}

const httpServer = http.createServer(async (req, res) => {
  const path = new URL(req.url, 'http://localhost').pathname;
  if (path !== '/mcp') return jsonRpcError(res, 404, 'not found; the MCP endpoint is /mcp');
  if (req.method !== 'POST') {
    res.setHeader('Allow', 'POST');
    return jsonRpcError(res, 405, 'this server is stateless: POST only');
  }
  const subject = req.headers['x-auth-subject'];
  if (!subject) {
    // Caddy lets nothing through without plugauth's 200, which always names
    // a subject; a request without one did not come through Caddy.
    return jsonRpcError(res, 403, 'no verified identity (X-Auth-Subject); reach this server through Caddy');
  }
  const caller = {
    subject,
    name: req.headers['x-auth-username'] || subject,
    scope: req.headers['x-auth-scope'] || '',
  };
  let body;
  try {
    body = await readJson(req);
  } catch (e) {
    return jsonRpcError(res, e.status ?? 400, e.message);
  }
  const server = notesServer(caller);
  // enableJsonResponse: each answer is one application/json body, not a
  // one-event SSE stream. Nothing here streams (no progress, no server
  // requests), and behind Caddy 2.6 (Debian 12) an SSE answer sometimes
  // lost its body: Caddy logged "reading from backend: use of closed network
  // connection" right after the headers, and the MCP client, holding a 200
  // with no message, waited until its 60 s request timeout.
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  res.on('close', () => {
    transport.close();
    server.close();
  });
  try {
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  } catch (e) {
    console.error('mcp request failed:', e);
    if (!res.headersSent) jsonRpcError(res, 500, 'internal error');
  }
});

httpServer.listen(port, '127.0.0.1', () => {
  console.error(`plugauth-notes MCP server on http://127.0.0.1:${port}/mcp`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    httpServer.close(() => process.exit(0));
    httpServer.closeAllConnections();
  });
}

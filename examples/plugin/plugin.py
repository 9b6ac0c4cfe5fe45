#!/usr/bin/env python3
"""A tiny example plugin: the HTTP API a developer puts behind the proxy.

It does no authentication of its own. nginx (auth_request) or Caddy
(forward_auth) asks plugauth's /verify about every request first and forwards
only the allowed ones, adding who the caller is in X-Auth-* headers. This
plugin answers every request with JSON echoing those headers, so you can see
exactly what your own API would receive.

The plugin must listen on loopback only: anything that can reach it directly
can skip the proxy and send X-Auth-* headers of its own choosing.

usage: plugin.py [PORT]       (default: $PLUGIN_PORT, else 8000)
"""

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# The identity headers plugauth's /verify answers with and the proxy copies
# upstream (SPEC §3). X-Auth-Username is present for users' keys only.
IDENTITY_HEADERS = {
    "subject": "X-Auth-Subject",
    "username": "X-Auth-Username",
    "scope": "X-Auth-Scope",
    "type": "X-Auth-Type",
}


class EchoIdentity(BaseHTTPRequestHandler):
    server_version = "example-plugin/1"

    def answer(self):
        # Drain a request body so keep-alive connections stay in step.
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        body = {"path": self.path, "method": self.command}
        for field, header in IDENTITY_HEADERS.items():
            body[field] = self.headers.get(header)
        # Every header value the proxy sent for each name, so a test can tell
        # a forwarded identity from one a client tried to smuggle in.
        body["all_subject_headers"] = self.headers.get_all("X-Auth-Subject") or []
        data = json.dumps(body, sort_keys=True).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = answer

    def log_message(self, fmt, *args):
        sys.stderr.write("plugin: %s %s\n" % (self.address_string(), fmt % args))


def main():
    port = int(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("PLUGIN_PORT", "8000"))
    server = ThreadingHTTPServer(("127.0.0.1", port), EchoIdentity)
    server.daemon_threads = True
    sys.stderr.write("plugin: listening on http://127.0.0.1:%d\n" % port)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""An OAuth2 client-credentials front for a service that takes HTTP Basic, for tests of bearer-token clients.
POST /oauth/token with the client's id and secret (HTTP Basic, RFC 6749 2.3.1) and grant_type=client_credentials
issues a token that lives LIFETIME seconds (and prints "token issued" to stderr). Every other request must carry
a live token as "Authorization: Bearer"; it is forwarded to TARGET with the service's own Basic credentials,
else answered 401. Prints the port it listens on (127.0.0.1), then serves until killed.
  oauth_proxy.py CLIENT_ID CLIENT_SECRET LIFETIME TARGET_BASE_URL SERVICE_USER SERVICE_PASSWORD"""
import base64
import http.server
import json
import secrets
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

client_id, client_secret, lifetime, target, user, password = sys.argv[1:7]
lifetime = int(lifetime)
target = target.rstrip("/")
service_auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
tokens = {}


class Front(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, status, data, kind="application/json", extra=()):
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def token(self, body):
        form = urllib.parse.parse_qs(body.decode())
        presented = self.headers.get("Authorization", "")
        expected = "Basic " + base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        if form.get("grant_type") != ["client_credentials"]:
            return self.answer(400, b'{"error":"unsupported_grant_type"}')
        if presented != expected:
            return self.answer(401, b'{"error":"invalid_client"}')
        token = secrets.token_urlsafe(24)
        tokens[token] = time.time() + lifetime
        print("token issued", flush=True, file=sys.stderr)
        self.answer(200, json.dumps({"access_token": token, "token_type": "bearer", "expires_in": lifetime}).encode(),
                    extra=[("Cache-Control", "no-store")])

    def forward(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path == "/oauth/token" and self.command == "POST":
            return self.token(body)
        presented = self.headers.get("Authorization", "")
        live = presented.startswith("Bearer ") and tokens.get(presented[7:], 0) > time.time()
        if not live:
            return self.answer(401, b'{"error":{"code":"401","message":"invalid or expired token"}}',
                               extra=[("WWW-Authenticate", 'Bearer error="invalid_token"')])
        headers = {k: v for k, v in self.headers.items() if k.lower() in ("content-type", "accept", "if-match", "odata-version", "prefer")}
        headers["Authorization"] = service_auth
        request = urllib.request.Request(target + self.path, data=body if body else None, headers=headers, method=self.command)
        try:
            with urllib.request.urlopen(request, timeout=30) as reply:
                status, data, kind, etag = reply.status, reply.read(), reply.headers.get("Content-Type", "application/json"), reply.headers.get("ETag")
        except urllib.error.HTTPError as e:
            status, data, kind, etag = e.code, e.read(), e.headers.get("Content-Type", "text/plain"), e.headers.get("ETag")
        self.answer(status, data, kind, [("ETag", etag)] if etag else [])

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_MERGE = forward

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Front)
print(server.server_address[1], flush=True)
server.serve_forever()

#!/usr/bin/python3
"""A stand-in for Slack incoming webhooks for tests: HTTPS on 127.0.0.1, a free port.

    slack_standin.py --out DIR --cert PEM --key PEM [--script FILE]

Every request is written to DIR as NNNN.json ({"method", "path", "headers", "body",
"client_port": the TCP source port, which tells connections apart, "tls_resumed": whether the
connection's TLS handshake resumed an earlier session}), renamed into place whole. It is
answered by the script's next line ("200", "200 close" = 200 and then the connection closed,
"429 2" = 429 with Retry-After: 2, "429 Wed, 21 Oct 2015 07:28:00 GMT", "500", "404",
"302 https://elsewhere/" = 302 with that Location); the file is read again per request, so a
test may append to it. Past its end, and without it, the answer is 200 "ok", as Slack's.
Prints "listening on 127.0.0.1:PORT" once it accepts connections.
"""
import argparse
import http.server
import json
import os
import ssl
import threading

BODIES = {200: b"ok", 400: b"invalid_payload", 403: b"action_prohibited", 404: b"no_service",
          410: b"channel_is_archived", 429: b"rate_limited", 500: b"internal_error"}


class StandIn(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, out, script, context):
        super().__init__(("127.0.0.1", 0), Handler)
        self.out = out
        self.script = script
        self.context = context
        self.lock = threading.Lock()
        self.requests = 0

    def get_request(self):
        sock, addr = super().get_request()
        return self.context.wrap_socket(sock, server_side=True), addr

    def next_answer(self):
        with self.lock:
            self.requests += 1
            n = self.requests
        lines = []
        if self.script:
            with open(self.script) as f:
                lines = [line.strip() for line in f if line.strip()]
        return n, (lines[n - 1] if n <= len(lines) else "200")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        n, answer = self.server.next_answer()
        record = {"method": self.command, "path": self.path,
                  "headers": {k.lower(): v for k, v in self.headers.items()},
                  "body": body.decode("utf-8", "replace"),
                  "client_port": self.client_address[1],
                  "tls_resumed": self.connection.session_reused}
        path = os.path.join(self.server.out, "%04d.json" % n)
        with open(path + ".tmp", "w") as f:
            json.dump(record, f)
        os.rename(path + ".tmp", path)
        status, _, extra = answer.partition(" ")
        status = int(status)
        reply = BODIES.get(status, b"error")
        self.send_response(status)
        if status == 429 and extra:
            self.send_header("Retry-After", extra)
        if 300 <= status < 400 and extra:
            self.send_header("Location", extra)
        if extra == "close":
            self.send_header("Connection", "close")
            self.close_connection = True
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    do_POST = handle_any
    do_GET = handle_any
    do_PUT = handle_any

    def log_message(self, fmt, *args):
        pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--script")
    args = parser.parse_args()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args.cert, args.key)
    server = StandIn(args.out, args.script, context)
    print("listening on 127.0.0.1:%d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

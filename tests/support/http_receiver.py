#!/usr/bin/env python3
"""A real HTTP(S) receiver for the outbound-call tests (Python standard library only).

Usage: http_receiver.py LOG_FILE [CERT_FILE KEY_FILE]
Listens on 127.0.0.1 (a free port; prints it on the first line of stdout), over TLS when a
certificate is given. Every request is appended to LOG_FILE as one JSON line (method, path,
client_port, headers, body). Answers by path:
  /accept        202 "accepted"
  /status/<n>    status n
  /slow          sleeps 3 s, then 200
  /big           200 with 200,000 bytes
  /redirect      302 to /accept
Stops on SIGTERM.
"""
import http.server
import json
import signal
import ssl
import sys
import time


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        with open(self.server.log_file, "a", encoding="utf-8") as f:
            f.write(json.dumps({"method": self.command, "path": self.path,
                                "client_port": self.client_address[1],
                                "headers": {k.lower(): v for k, v in self.headers.items()},
                                "body": body.decode("utf-8", "replace")}) + "\n")
        status, payload, extra = 200, b"ok", {}
        if self.path == "/accept":
            status, payload = 202, b"accepted"
        elif self.path.startswith("/status/"):
            status = int(self.path.rsplit("/", 1)[1])
        elif self.path == "/slow":
            time.sleep(3)
        elif self.path == "/big":
            payload = b"x" * 200_000
        elif self.path == "/redirect":
            status, extra = 302, {"Location": "/accept"}
        self.send_response(status)
        for name, value in extra.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.log_file = sys.argv[1]
    if len(sys.argv) == 4:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(sys.argv[2], sys.argv[3])
        server.socket = context.wrap_socket(server.socket, server_side=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

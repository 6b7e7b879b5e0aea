#!/usr/bin/env python3
"""A webhook receiver for the end-to-end tests, on 127.0.0.1.

usage: webhook-receiver.py OUT PORTFILE [ok | slow SECONDS | hang]

Appends each POST body as one line to OUT (in arrival order) and writes the port it listens on
to PORTFILE once it accepts connections. ok answers 200 at once; slow sleeps SECONDS first;
hang reads the request and never answers (the connection stays open).
"""
import http.server
import os
import sys
import threading
import time

out, portfile = sys.argv[1], sys.argv[2]
mode = sys.argv[3] if len(sys.argv) > 3 else "ok"
delay = float(sys.argv[4]) if mode == "slow" else 0.0
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with lock, open(out, "ab") as f:
            f.write(body.replace(b"\n", b" ") + b"\n")
        if mode == "hang":
            time.sleep(3600)
        if delay:
            time.sleep(delay)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
tmp = portfile + ".tmp"
with open(tmp, "w") as f:
    f.write(str(server.server_address[1]))
os.rename(tmp, portfile)
server.serve_forever()

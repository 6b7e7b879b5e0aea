#!/usr/bin/env python3
"""An HTTP server for the end-to-end tests, on 127.0.0.1, that records what it was sent.

usage: request-recorder.py OUT PORTFILE

Answers every request 200 "ok" and appends one JSON line per request to OUT:
{"method": ..., "path": ..., "headers": [[name, value], ...]} (names as sent). Writes the port
it listens on to PORTFILE once it accepts connections.
"""
import http.server
import json
import os
import sys
import threading

out, portfile = sys.argv[1], sys.argv[2]
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    def handle_any(self):
        length = int(self.headers.get("Content-Length", 0) or 0)
        if length:
            self.rfile.read(length)
        record = {"method": self.command, "path": self.path,
                  "headers": [[k, v] for k, v in self.headers.items()]}
        with lock, open(out, "a") as f:
            f.write(json.dumps(record) + "\n")
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    do_GET = do_POST = do_PUT = do_DELETE = handle_any

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
tmp = portfile + ".tmp"
with open(tmp, "w") as f:
    f.write(str(server.server_address[1]))
os.rename(tmp, portfile)
server.serve_forever()

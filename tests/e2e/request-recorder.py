#!/usr/bin/env python3
"""An HTTP server for the end-to-end tests, on 127.0.0.1, that records what it was sent.

usage: request-recorder.py OUT PORTFILE

Answers every request 200 "ok" and appends one JSON line per request to OUT:
{"method": ..., "path": ..., "headers": [[name, value], ...]} (names as sent). Writes the port
it listens on to PORTFILE once it accepts connections.
"""
import json
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from testserver import QuietHandler, serve

out, portfile = sys.argv[1], sys.argv[2]


class Handler(QuietHandler):
    def handle_any(self):
        self.read_body()
        record = {"method": self.command, "path": self.path,
                  "headers": [[k, v] for k, v in self.headers.items()]}
        self.record(out, (json.dumps(record) + "\n").encode())
        self.answer_ok()

    do_GET = do_POST = do_PUT = do_DELETE = handle_any


serve(Handler, portfile)

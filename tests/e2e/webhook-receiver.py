#!/usr/bin/env python3
"""A webhook receiver for the end-to-end tests, on 127.0.0.1.

usage: webhook-receiver.py OUT PORTFILE [ok | slow SECONDS | hang]

Appends each POST body as one line to OUT (in arrival order) and writes the port it listens on
to PORTFILE once it accepts connections. ok answers 200 at once; slow sleeps SECONDS first;
hang reads the request and never answers (the connection stays open).
"""
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import time
from testserver import QuietHandler, serve

out, portfile = sys.argv[1], sys.argv[2]
mode = sys.argv[3] if len(sys.argv) > 3 else "ok"
delay = float(sys.argv[4]) if mode == "slow" else 0.0


class Handler(QuietHandler):
    def do_POST(self):
        self.record(out, self.read_body().replace(b"\n", b" ") + b"\n")
        if mode == "hang":
            time.sleep(3600)
        if delay:
            time.sleep(delay)
        self.answer_ok()


serve(Handler, portfile)

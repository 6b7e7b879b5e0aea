"""The demo's model server, on 127.0.0.1 only.

  GET  /health   200 "ok <model sha256>" once the model is loaded
  POST /predict  {"features": [sessions_7d, avg_basket, days_since_last, support_tickets]}
                 -> {"prediction": 0|1, "probability": p, "model_sha256": "..."}

usage: serve.py PORT MODEL          (the service; stop it with SIGTERM)
       serve.py start PORT MODEL    (the same, detached: the demo's environment)
       serve.py stop MODEL          (stops the one started with start)"""

import json
import os
import signal
import sys
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import common
import train


class Handler(BaseHTTPRequestHandler):
    server_version = "feature-store-demo/1"

    def reply(self, status, body, ctype="application/json"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/health":
            self.reply(200, "ok %s\n" % self.server.sha, "text/plain")
        else:
            self.reply(404, json.dumps({"error": "not found"}))

    def do_POST(self):
        if self.path != "/predict":
            return self.reply(404, json.dumps({"error": "not found"}))
        try:
            n = int(self.headers.get("Content-Length") or 0)
            x = json.loads(self.rfile.read(n) or b"{}")["features"]
            if len(x) != len(common.FEATURES):
                raise ValueError("expected %d features: %s" % (len(common.FEATURES),
                                                                ", ".join(common.FEATURES)))
            x = [float(v) for v in x]
        except (KeyError, TypeError, ValueError) as e:
            return self.reply(400, json.dumps({"error": "bad request: %s" % e}))
        p = train.predict(self.server.model, x)
        self.reply(200, json.dumps({"prediction": int(p >= 0.5), "probability": round(p, 4),
                                    "model_sha256": self.server.sha}))

    def log_message(self, fmt, *args):
        pass


def pid_file(model):
    return os.path.join(os.path.dirname(model) or ".", "serve.pid")


def start(port, model):
    log = os.path.join(os.path.dirname(model) or ".", "serve.log")
    pid = common.daemon([os.path.abspath(__file__), str(port), model], log)
    with open(pid_file(model), "w") as f:
        f.write("%d\n" % pid)
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/health" % port, timeout=1) as r:
                if r.status == 200:
                    common.say("started the model server in the background on http://127.0.0.1:%d "
                               "(pid %d, log %s)", port, pid, log)
                    return
        except OSError:
            time.sleep(0.1)
    common.die("the model server did not answer on port %d (see %s)", port, log)


def stop(model):
    pidf = pid_file(model)
    pid = common.read_pid(pidf)
    if pid and common.alive(pid, "serve.py"):
        common.terminate(pid, "serve.py")
        common.say("stopped the model server (pid %d)", pid)
    else:
        common.say("no model server of the demo's was running")
    if os.path.exists(pidf):
        os.remove(pidf)


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "start":
        return start(int(sys.argv[2]), sys.argv[3])
    if len(sys.argv) == 3 and sys.argv[1] == "stop":
        return stop(sys.argv[2])
    if len(sys.argv) != 3:
        common.die("usage: serve.py PORT MODEL | serve.py start PORT MODEL | serve.py stop MODEL")
    port, path = int(sys.argv[1]), sys.argv[2]
    with open(path) as f:
        model = json.load(f)
    try:
        server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    except OSError as e:
        common.die("serve: cannot listen on 127.0.0.1:%d: %s", port, e.strerror)
    server.model, server.sha = model, common.sha256_file(path)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    common.say("serve: model %s (sha256 %s…) on http://127.0.0.1:%d", path, server.sha[:12], port)
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()

"""The redeploy-rollback example's service: a pricing API whose releases sit
side by side under RELEASES, the live one behind the symlink `current` (the
previous one behind `previous`), so that a deploy and a rollback are each one
atomic symlink switch. The server reads the release behind `current` on
every request: switching needs no restart.

usage: pricing.py install RELEASES VERSION [--broken=0|1]
       pricing.py serve RELEASES PORT
       pricing.py switch RELEASES VERSION
       pricing.py rollback RELEASES

install (re)creates release v1, live, and release VERSION; with --broken=1,
VERSION ships without its price table, so its health check fails.
GET /health answers 200 "ok VERSION" or 503 with the reason; with
?version=V it also answers 409 unless V is the live release."""

import argparse
import json
import os
import random
import shutil
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


def say(fmt, *args):
    print(fmt % args, flush=True)


def point(releases, link, version):
    tmp = os.path.join(releases, link + ".new")
    if os.path.lexists(tmp):
        os.remove(tmp)
    os.symlink(version, tmp)
    os.replace(tmp, os.path.join(releases, link))


def live(releases, link="current"):
    path = os.path.join(releases, link)
    return os.readlink(path) if os.path.islink(path) else None


def make_release(releases, version, broken):
    folder = os.path.join(releases, version)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    with open(os.path.join(folder, "release.json"), "w") as f:
        json.dump({"version": version, "prices": "prices.json"}, f)
    if not broken:
        rng = random.Random(version)
        with open(os.path.join(folder, "prices.json"), "w") as f:
            json.dump({"sku-%03d" % i: round(rng.uniform(1, 200), 2) for i in range(12)}, f)


def install(args):
    os.makedirs(args.releases, exist_ok=True)
    make_release(args.releases, "v1", False)
    if args.version != "v1":
        make_release(args.releases, args.version, args.broken)
    point(args.releases, "current", "v1")
    if os.path.lexists(os.path.join(args.releases, "previous")):
        os.remove(os.path.join(args.releases, "previous"))
    say("release v1 is live; release %s is staged%s", args.version,
        " (without its price table, on purpose)" if args.broken else "")


def health(releases):
    """(status, text) of the live release."""
    version = live(releases)
    if not version:
        return 503, "unhealthy: no live release"
    try:
        with open(os.path.join(releases, version, "release.json")) as f:
            rel = json.load(f)
        with open(os.path.join(releases, version, rel["prices"])) as f:
            prices = json.load(f)
    except (OSError, ValueError, KeyError) as e:
        return 503, "unhealthy: %s cannot load its price table (%s)" % (version, e)
    return 200, "ok %s (%d prices)" % (version, len(prices))


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        url = urlparse(self.path)
        if url.path != "/health":
            status, text = 404, "not found"
        else:
            status, text = health(self.server.releases)
            want = parse_qs(url.query).get("version", [None])[0]
            if status == 200 and want and want != live(self.server.releases):
                status, text = 409, "serving %s, not %s" % (live(self.server.releases), want)
        data = (text + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):
        pass


def serve(args):
    try:
        server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    except OSError as e:
        sys.exit("pricing: cannot listen on 127.0.0.1:%d: %s" % (args.port, e.strerror))
    server.releases = args.releases
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    say("pricing: serving the live release under %s on http://127.0.0.1:%d", args.releases,
        args.port)
    server.serve_forever()


def switch(args):
    if not os.path.isdir(os.path.join(args.releases, args.version)):
        sys.exit("pricing: no release %s under %s" % (args.version, args.releases))
    was = live(args.releases)
    if was:
        point(args.releases, "previous", was)
    point(args.releases, "current", args.version)
    say("live release: %s -> %s", was, args.version)


def rollback(args):
    before, was = live(args.releases, "previous"), live(args.releases)
    if not before:
        sys.exit("pricing: no previous release to roll back to")
    point(args.releases, "current", before)
    say("live release: %s -> %s (rolled back)", was, before)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    i = sub.add_parser("install")
    i.add_argument("releases")
    i.add_argument("version")
    i.add_argument("--broken", type=lambda v: v.lower() in ("1", "true", "yes"), default=False)
    s = sub.add_parser("serve")
    s.add_argument("releases")
    s.add_argument("port", type=int)
    w = sub.add_parser("switch")
    w.add_argument("releases")
    w.add_argument("version")
    r = sub.add_parser("rollback")
    r.add_argument("releases")
    args = p.parse_args()
    {"install": install, "serve": serve, "switch": switch, "rollback": rollback}[args.cmd](args)


if __name__ == "__main__":
    main()

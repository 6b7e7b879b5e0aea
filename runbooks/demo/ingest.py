"""The demo's ingest: keeps appending feature rows to the online store, the
way a stream consumer would. When the store cannot be written (deleted,
corrupted) it stops writing for good and says so, rather than creating an
empty store or writing into a broken one; it stays up, paused, until it is
stopped. Its pid and status live beside the store.

usage: ingest.py run STORE [--rate N]     (the service; stop it with SIGTERM)
       ingest.py start STORE [--rate N]   (the same, detached: the demo's environment)
       ingest.py status STORE             (exit 0 when it runs and writes)
       ingest.py wait-halted STORE [--timeout S]
       ingest.py stop STORE"""

import argparse
import json
import os
import random
import signal
import sqlite3
import sys
import time

import common


def pid_file(store):
    return os.path.join(os.path.dirname(store) or ".", "ingest.pid")


def status_file(store):
    return os.path.join(os.path.dirname(store) or ".", "ingest.status")


def write_json(path, value):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(value, f)
    os.replace(tmp, path)


def run(args):
    pidf = pid_file(args.store)
    rows, last_event = 0, None

    def on_signal(signum, frame):
        try:
            with open(pidf) as f:
                if f.read().strip() == str(os.getpid()):
                    os.remove(pidf)
        except OSError:
            pass
        common.say("ingest: stopped (%d rows written by this process)", rows)
        sys.exit(0)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with open(pidf, "w") as f:
        f.write("%d\n" % os.getpid())
    write_json(status_file(args.store), {"state": "running", "pid": os.getpid()})
    common.say("ingest: appending ~%g feature rows a second to %s (pid %d)",
               args.rate, args.store, os.getpid())
    rng = random.Random()
    while True:
        try:
            db = common.connect(args.store)
            try:
                with db:
                    event = common.iso()
                    db.execute(common.INSERT, common.churn_row(rng, rng.randrange(1, 5000), event))
            finally:
                db.close()
            rows, last_event = rows + 1, event
        except sqlite3.Error as e:
            if "locked" in str(e) or "busy" in str(e):
                continue
            write_json(status_file(args.store), {
                "state": "halted", "pid": os.getpid(), "at": common.iso(), "error": str(e),
                "rows": rows, "last_event": last_event})
            common.say("ingest: cannot write to the store (%s): writes stopped; "
                       "the last row written has event time %s", e, last_event)
            while True:
                signal.pause()
        time.sleep(1.0 / args.rate)


def wait_halted(args):
    deadline = time.time() + args.timeout
    while time.time() < deadline:
        try:
            with open(status_file(args.store)) as f:
                st = json.load(f)
        except (OSError, ValueError):
            st = {}
        if st.get("state") == "halted":
            common.say("ingest stopped writing at %s (%s) after %d rows; "
                       "the newest event it wrote is %s", st["at"], st["error"], st["rows"],
                       st["last_event"])
            return
        time.sleep(0.05)
    common.die("ingest is still writing to %s after %gs", args.store, args.timeout)


def alive_ingest(pid):
    return common.alive(pid, "ingest.py")


def start(args):
    pid = common.read_pid(pid_file(args.store))
    if pid and alive_ingest(pid):
        common.die("ingest is already running (pid %d)", pid)
    log = os.path.join(os.path.dirname(args.store) or ".", "ingest.log")
    pid = common.daemon([os.path.abspath(__file__), "run", args.store, "--rate", str(args.rate)], log)
    deadline = time.time() + 5
    while time.time() < deadline:
        if common.read_pid(pid_file(args.store)) == pid:
            common.say("started ingest in the background (pid %d, log %s)", pid, log)
            return
        time.sleep(0.05)
    common.die("ingest did not start (see %s)", log)


def status(args):
    pid = common.read_pid(pid_file(args.store))
    try:
        with open(status_file(args.store)) as f:
            st = json.load(f)
    except (OSError, ValueError):
        st = {}
    if not pid or not alive_ingest(pid):
        common.die("ingest is not running (no live process in %s)", pid_file(args.store))
    if st.get("state") != "running":
        common.die("ingest (pid %d) is %s: %s", pid, st.get("state", "in an unknown state"),
                   st.get("error", "no status"))
    common.say("ingest is running (pid %d) and writing to %s", pid, args.store)


def stop(store, quiet=False):
    pidf = pid_file(store)
    pid = common.read_pid(pidf)
    if pid and alive_ingest(pid):
        common.terminate(pid, "ingest.py")
        common.say("stopped ingest (pid %d)", pid)
    elif not quiet:
        common.say("ingest is not running")
    for path in (pidf, status_file(store), status_file(store) + ".tmp"):
        if os.path.exists(path):
            os.remove(path)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("store")
    r.add_argument("--rate", type=float, default=10)
    w = sub.add_parser("wait-halted")
    w.add_argument("store")
    w.add_argument("--timeout", type=float, default=5)
    s = sub.add_parser("stop")
    s.add_argument("store")
    b = sub.add_parser("start")
    b.add_argument("store")
    b.add_argument("--rate", type=float, default=10)
    t = sub.add_parser("status")
    t.add_argument("store")
    args = p.parse_args()
    if args.cmd == "run":
        run(args)
    elif args.cmd == "start":
        start(args)
    elif args.cmd == "status":
        status(args)
    elif args.cmd == "wait-halted":
        wait_halted(args)
    else:
        stop(args.store)


if __name__ == "__main__":
    main()

"""Shared helpers of the feature-store demo: time stamps, checksums, the
store's schema and a churn data generator with a real signal, so that the
model retrained after the restore has something to learn."""

import hashlib
import math
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timezone

FEATURES = ("sessions_7d", "avg_basket", "days_since_last", "support_tickets")

SCHEMA = """
create table if not exists features (
  id integer primary key,
  customer_id integer not null,
  event_time text not null,          -- UTC ISO-8601 with ms, e.g. 2026-01-31T12:00:00.000Z
  sessions_7d real not null,
  avg_basket real not null,
  days_since_last real not null,
  support_tickets real not null,
  churned integer not null
);
create index if not exists features_event_time on features (event_time);
"""


def say(fmt, *args):
    print(fmt % args if args else fmt, flush=True)


def iso(t=None):
    t = time.time() if t is None else t
    d = datetime.fromtimestamp(t, timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (d.microsecond // 1000)


def parse_iso(s):
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def write_manifest(path):
    """Writes PATH.sha256 in sha256sum's format; returns the digest."""
    digest = sha256_file(path)
    with open(path + ".sha256", "w") as f:
        f.write("%s  %s\n" % (digest, os.path.basename(path)))
    return digest


def is_mount(path):
    """Whether PATH is a mount point, a bind mount of a folder on the same
    filesystem included (which os.path.ismount cannot tell)."""
    want = os.path.realpath(path)
    try:
        with open("/proc/self/mountinfo") as f:
            for line in f:
                point = line.split()[4]
                point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), point)
                if point == want:
                    return True
    except OSError:
        pass
    return False


def vault_dir(offsite):
    """The folder setup.py mounts read-only on OFFSITE (as root)."""
    return os.path.join(os.path.dirname(offsite) or ".", ".offsite-vault")


def vault_of(offsite):
    """Where the offsite copies are written: the vault when OFFSITE is its
    read-only mount (the kernel lets only this side write), else OFFSITE."""
    return vault_dir(offsite) if is_mount(offsite) else offsite


def connect(path, create=False):
    """A connection that never creates a missing store by accident."""
    if create:
        return sqlite3.connect(path, timeout=5)
    if not os.path.exists(path):
        raise sqlite3.OperationalError("unable to open database file: %s is missing" % path)
    return sqlite3.connect("file:%s?mode=rw" % path, uri=True, timeout=5)


def sigmoid(z):
    if z < -30:
        return 0.0
    if z > 30:
        return 1.0
    return 1.0 / (1.0 + math.exp(-z))


def churn_row(rng, customer_id, event_time):
    """One feature row. Customers who stopped visiting, spend little and open
    tickets churn far more often: the label follows a logistic model of the
    features, with noise."""
    sessions = min(40.0, rng.expovariate(1 / 6.0))
    basket = rng.lognormvariate(3.4, 0.6)
    idle = min(90.0, rng.expovariate(1 / 12.0))
    tickets = float(min(8, int(rng.expovariate(1 / 0.8))))
    z = -1.6 - 0.6 * sessions + 0.28 * idle - 0.02 * basket + 1.3 * tickets
    churned = 1 if rng.random() < sigmoid(z) else 0
    return (customer_id, event_time, round(sessions, 2), round(basket, 2), round(idle, 2),
            tickets, churned)


INSERT = ("insert into features (customer_id, event_time, sessions_7d, avg_basket, "
          "days_since_last, support_tickets, churned) values (?, ?, ?, ?, ?, ?, ?)")


def die(fmt, *args):
    print(fmt % args if args else fmt, file=sys.stderr, flush=True)
    sys.exit(1)


def daemon(argv, log):
    """Starts ARGV (a python script of the demo and its arguments) as the
    system's service manager would: in a session of its own, without the
    caller's LIFEBOAT_* variables (lifeboat stops every process of a run that
    carries its LIFEBOAT_RUN_ID when the run ends), its output appended to
    LOG. The demo's environment outlives the setup run this way; returns the
    pid."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIFEBOAT_")}
    with open(log, "ab") as out:
        p = subprocess.Popen([sys.executable] + argv, stdin=subprocess.DEVNULL, stdout=out,
                             stderr=subprocess.STDOUT, start_new_session=True, close_fds=True,
                             env=env)
    return p.pid


def alive(pid, script):
    """Whether PID is a running SCRIPT of the demo."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return script.encode() in f.read()
    except OSError:
        return False


def read_pid(path):
    try:
        with open(path) as f:
            return int(f.read().strip() or 0)
    except (OSError, ValueError):
        return 0


def terminate(pid, script):
    """Stops PID (a running SCRIPT of the demo): SIGTERM, then SIGKILL after 3 s."""
    os.kill(pid, signal.SIGTERM)
    for _ in range(60):
        if not alive(pid, script):
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)

"""Sets up the feature-store demo from scratch: stops an ingest left over
from an earlier run, removes the previous store, snapshots and model (the
offsite folder is read-only, so it is made writable first), then creates a
store holding DAYS days of feature history.

The offsite copies are kept where root cannot change them either: as root,
OFFSITE becomes a read-only bind mount of a folder beside it (.offsite-vault,
where snapshot.py writes), left mounted until the next setup; otherwise they
are only read-only by mode bits, which stop anyone but root.

usage: setup.py STORE BACKUPS OFFSITE MODEL [--replica DIR] [--rows N] [--days D]"""

import argparse
import glob
import os
import random
import stat
import subprocess
import time

import common
import ingest


def writable(path):
    if os.path.isdir(path):
        os.chmod(path, os.stat(path).st_mode | stat.S_IWUSR | stat.S_IXUSR)


def unmount(offsite):
    while common.is_mount(offsite):
        subprocess.run(["umount", offsite], check=True)


def mount_read_only(offsite):
    """OFFSITE as a read-only bind mount of its vault, or why not."""
    vault = common.vault_dir(offsite)
    for src in glob.glob(os.path.join(offsite, "*")):
        os.replace(src, os.path.join(vault, os.path.basename(src)))
    for cmd in (["mount", "--bind", vault, offsite], ["mount", "-o", "remount,ro,bind", offsite]):
        r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if r.returncode:
            unmount(offsite)
            return r.stderr.strip() or "mount failed"
    return None


def wipe(args):
    ingest.stop(args.store, quiet=True)
    unmount(args.offsite)
    stem = os.path.splitext(os.path.basename(args.store))[0]
    removed = 0
    vault = common.vault_dir(args.offsite)
    for folder in (args.backups, args.offsite, vault, args.replica):
        if not folder or not os.path.isdir(folder):
            continue
        writable(folder)
        for path in glob.glob(os.path.join(folder, stem + "-*")):
            os.remove(path)
            removed += 1
    for path in glob.glob(args.store + "*") + glob.glob(args.model + "*"):
        if os.path.isfile(path):
            os.remove(path)
            removed += 1
    if removed:
        common.say("wiped the previous demo state (%d files)", removed)
    for folder in (os.path.dirname(args.store) or ".", args.backups, args.offsite, vault,
                   args.replica, os.path.dirname(args.model) or "."):
        if folder:
            os.makedirs(folder, exist_ok=True)
    why = mount_read_only(args.offsite)
    if why:
        common.say("offsite copies in %s are read-only by mode bits only (root writes through them): "
                   "no read-only mount (%s)", args.offsite, why)
    else:
        common.say("offsite copies: %s is a read-only bind mount (even root cannot change them)",
                   args.offsite)


def seed(args):
    rng = random.Random(20240229)
    now = time.time()
    start = now - args.days * 86400
    times = sorted(rng.uniform(start, now - 60) for _ in range(args.rows))
    db = common.connect(args.store, create=True)
    db.executescript(common.SCHEMA)
    with db:
        db.executemany(common.INSERT, (common.churn_row(rng, rng.randrange(1, 5000), common.iso(t))
                                       for t in times))
    rows, newest = db.execute("select count(*), max(event_time) from features").fetchone()
    db.close()
    common.say("created the online store %s: %d rows over %g days, newest event %s",
               args.store, rows, args.days, newest)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("store")
    p.add_argument("backups")
    p.add_argument("offsite")
    p.add_argument("model")
    p.add_argument("--replica")
    p.add_argument("--rows", type=int, default=3000)
    p.add_argument("--days", type=float, default=30)
    args = p.parse_args()
    wipe(args)
    seed(args)


if __name__ == "__main__":
    main()

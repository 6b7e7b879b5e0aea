"""Takes snapshots of the online store the 3-2-1 way: a consistent copy made
with SQLite's online backup while ingest keeps writing, its SHA-256 manifest
beside it in BACKUPS, and the same two files replicated to REPLICA (another
medium) and to OFFSITE, which is kept read-only: a read-only bind mount when
setup.py could make one (as root), else only mode bits. Snapshots are named STEM-YYYYMMDDTHHMMSSZ.db after the
store's file name, so they sort by time.

--torn damages the snapshot after its manifest was written and before it is
replicated, as a torn write would: both copies then fail verification. The
demo plants one such snapshot on purpose, and the restore must skip it.

--poison flips the labels (churned) in the snapshot before its manifest is
written, as an attacker who reached the store before the backup would: its
checksum verifies everywhere, only its data gives it away. The restore must
reject it by its label distribution against the reference profile.

usage: snapshot.py STORE BACKUPS OFFSITE [--replica DIR] [--count N] [--every S] [--torn | --poison]"""

import argparse
import os
import shutil
import sqlite3
import stat
import time

import common


def name_for(store, folder):
    stem = os.path.splitext(os.path.basename(store))[0]
    while True:
        name = "%s-%s.db" % (stem, time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()))
        if not os.path.exists(os.path.join(folder, name)):
            return name
        time.sleep(0.05)


def replicate(path, replica, offsite):
    """Copies PATH and its manifest into REPLICA and OFFSITE (through its vault,
    leaving both read-only there)."""
    if replica:
        for src in (path, path + ".sha256"):
            shutil.copyfile(src, os.path.join(replica, os.path.basename(src)))
    vault = common.vault_of(offsite)
    os.chmod(vault, 0o755)
    try:
        for src in (path, path + ".sha256"):
            dst = os.path.join(vault, os.path.basename(src))
            shutil.copyfile(src, dst)
            os.chmod(dst, 0o444)
    finally:
        os.chmod(vault, stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP |
                 stat.S_IROTH | stat.S_IXOTH)


def take(args):
    name = name_for(args.store, args.backups)
    path = os.path.join(args.backups, name)
    tmp = path + ".part"
    src = common.connect(args.store)
    dst = sqlite3.connect(tmp)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    os.replace(tmp, path)
    db = common.connect(path)
    if args.poison:
        with db:
            db.execute("update features set churned = 1 - churned")
    rows, newest = db.execute("select count(*), max(event_time) from features").fetchone()
    db.close()
    digest = common.write_manifest(path)
    if args.torn:
        with open(path, "r+b") as f:
            f.seek(os.path.getsize(path) // 2)
            f.write(b"\xde\xad\xbe\xef" * 16)
    replicate(path, args.replica, args.offsite)
    if args.poison:
        common.say("snapshot %s: %d rows, newest event %s, sha256 %s… — poisoned on purpose: its "
                   "labels were flipped before it was checksummed (local, replica, offsite)", name, rows,
                   newest, digest[:12])
    elif args.torn:
        common.say("snapshot %s: %d rows, newest event %s — torn on purpose after its manifest "
                   "(sha256 %s…) was written, then replicated", name, rows, newest,
                   digest[:12])
    else:
        common.say("snapshot %s: %d rows, newest event %s, sha256 %s… (local, replica, offsite read-only)",
                   name, rows, newest, digest[:12])


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("store")
    p.add_argument("backups")
    p.add_argument("offsite")
    p.add_argument("--replica")
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--every", type=float, default=1.0)
    kind = p.add_mutually_exclusive_group()
    kind.add_argument("--torn", action="store_true")
    kind.add_argument("--poison", action="store_true")
    args = p.parse_args()
    for folder in (args.backups, args.offsite, args.replica):
        if folder:
            os.makedirs(folder, exist_ok=True)
    for i in range(args.count):
        if i:
            time.sleep(args.every)
        take(args)


if __name__ == "__main__":
    main()

"""Prints what a feature store holds as JSON: {"integrity", "rows", "newest"}.

usage: inspect.py STORE"""

import json
import sqlite3
import sys

import common

if len(sys.argv) != 2:
    common.die("usage: inspect.py STORE")
try:
    db = common.connect(sys.argv[1])
    integrity = "; ".join(r[0] for r in db.execute("pragma integrity_check"))
    rows, newest = db.execute("select count(*), max(event_time) from features").fetchone()
except sqlite3.Error as e:
    common.die("inspect: %s: %s", sys.argv[1], e)
print(json.dumps({"integrity": integrity, "rows": rows, "newest": newest}))

#!/usr/bin/env python3
"""A second process that keeps writing while the suite backs up.

Usage: writer.py DB STOP_FILE FIRST_ID [TABLE]

Commits small transactions continuously: each inserts two rows, ids k and k+1 with the
same `tx` value, so a torn transaction shows as a lone row. Stops when STOP_FILE exists,
then prints JSON: the last committed id and the longest commit stall in milliseconds.
"""
import json
import os
import sqlite3
import sys
import time

db_path, stop_file, first = sys.argv[1], sys.argv[2], int(sys.argv[3])
table = sys.argv[4] if len(sys.argv) > 4 else "items"
db = sqlite3.connect(db_path, timeout=60, isolation_level=None)
next_id = first
longest = 0.0
commits = 0
while not os.path.exists(stop_file):
    started = time.monotonic()
    db.execute("BEGIN IMMEDIATE")
    for i in range(2):
        db.execute("INSERT INTO %s(id, body, n) VALUES (?, ?, ?)" % table,
                   (next_id + i, "writer row %d tx %d" % (next_id + i, next_id), next_id))
    db.execute("COMMIT")
    longest = max(longest, time.monotonic() - started)
    next_id += 2
    commits += 1
    time.sleep(0.001)
print(json.dumps({"last_id": next_id - 1, "commits": commits, "longest_stall_ms": round(longest * 1000, 1)}))

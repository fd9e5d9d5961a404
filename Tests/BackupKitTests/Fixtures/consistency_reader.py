#!/usr/bin/env python3
"""Reads a database over and over while it is being restored into, and checks that every read
transaction sees one whole version of table `items`, never a mix.

Usage: consistency_reader.py DB STOP_FILE FINGERPRINT...

A fingerprint is "count,sum(n),max(id)" of `items`. Prints JSON: reads, versions seen (a count
per fingerprint), and bad (reads matching none).
"""
import json
import os
import sqlite3
import sys
import time

db_path, stop_file, allowed = sys.argv[1], sys.argv[2], set(sys.argv[3:])
seen, bad, reads = {}, [], 0
while not os.path.exists(stop_file):
    try:
        db = sqlite3.connect(db_path, timeout=30)
        row = db.execute("SELECT count(*), total(n), max(id) FROM items").fetchone()
        db.close()
    except sqlite3.DatabaseError as error:  # busy beyond the timeout is not a torn read
        time.sleep(0.01)
        continue
    fingerprint = "%d,%d,%d" % (row[0], int(row[1]), row[2] or 0)
    reads += 1
    seen[fingerprint] = seen.get(fingerprint, 0) + 1
    if fingerprint not in allowed:
        bad.append(fingerprint)
print(json.dumps({"reads": reads, "seen": seen, "bad": bad[:5]}))

#!/usr/bin/env python3
"""Checkpoints a WAL database as fast as it can, as a busy application's connections do,
so its WAL is backfilled and restarted under the suite's readers.

Usage: checkpointer.py DB STOP_FILE
Runs PRAGMA wal_checkpoint(PASSIVE), then (TRUNCATE), in turn, until STOP_FILE exists;
prints the number of checkpoints that completed in full.
"""
import os
import sqlite3
import sys
import time

db = sqlite3.connect(sys.argv[1], timeout=0, isolation_level=None)
full = 0
turn = 0
while not os.path.exists(sys.argv[2]):
    mode = "PASSIVE" if turn % 2 == 0 else "TRUNCATE"
    try:
        busy, _, _ = db.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
        full += busy == 0
    except sqlite3.OperationalError:
        pass  # another checkpoint or a writer holds the lock: try again
    turn += 1
    time.sleep(0.005)
print(full)

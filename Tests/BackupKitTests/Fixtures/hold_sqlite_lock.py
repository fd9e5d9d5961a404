#!/usr/bin/env python3
"""Holds a SQLite lock on DB for SECONDS, as a busy writer does, then commits and exits.

Usage: hold_sqlite_lock.py DB SECONDS exclusive|immediate
exclusive blocks a rollback-mode database's readers; immediate blocks other writers.
Prints "held" once the lock is held.
"""
import sqlite3
import sys
import time

connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN " + sys.argv[3].upper())
print("held", flush=True)
time.sleep(float(sys.argv[2]))
connection.execute("COMMIT")

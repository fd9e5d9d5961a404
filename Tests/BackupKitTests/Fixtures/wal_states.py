#!/usr/bin/env python3
"""Builds a WAL database whose committed state lives partly in the database file and partly
in WAL frames, with a rolled-back transaction's frames after the last commit, and holds it
open (no checkpoint) until a line arrives on stdin.

Usage: wal_states.py DB PAGE_SIZE
Prints "ready DB_BYTES WAL_BYTES ROWS" once the state is built; ROWS is the committed row
count of table t (the rolled-back rows are not in it).
"""
import os
import sqlite3
import sys

path, page_size = sys.argv[1], int(sys.argv[2])
c = sqlite3.connect(path, isolation_level=None)
c.execute(f"PRAGMA page_size={page_size}")
c.execute("PRAGMA journal_mode=WAL")
c.execute("PRAGMA wal_autocheckpoint=0")
c.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB, note TEXT)")
c.execute("CREATE TABLE kv(k TEXT PRIMARY KEY, v TEXT) WITHOUT ROWID")
c.execute("CREATE VIRTUAL TABLE docs USING fts5(body)")
for i in range(600):
    c.execute("INSERT INTO t(v, note) VALUES(randomblob(700), ?)", (f"row {i}",))
    c.execute("INSERT INTO kv VALUES(?, ?)", (f"key{i:05d}", f"value {i}"))
    c.execute("INSERT INTO docs(body) VALUES(?)", (f"document {i} about sqlite wal frames",))
# Part of the history goes into the database file; what follows stays in the WAL only.
c.execute("PRAGMA wal_checkpoint(PASSIVE)")
c.execute("UPDATE t SET v = randomblob(900) WHERE id % 4 = 0")
c.execute("DELETE FROM t WHERE id % 7 = 0")
c.execute("UPDATE kv SET v = v || ' changed' WHERE k LIKE 'key001%'")
c.execute("INSERT INTO docs(body) VALUES('written after the checkpoint')")
rows = c.execute("SELECT count(*) FROM t").fetchone()[0]
# A transaction too big for its cache spills frames into the WAL, then rolls back: those
# frames stay in the file after the last commit and belong to no committed state.
c.execute("PRAGMA cache_size=5")
c.execute("BEGIN")
for i in range(800):
    c.execute("INSERT INTO t(v, note) VALUES(randomblob(2000), 'rolled back')")
c.execute("ROLLBACK")
print("ready", os.path.getsize(path), os.path.getsize(path + "-wal"), rows, flush=True)
sys.stdin.readline()
c.close()

#!/usr/bin/env python3
"""Builds a WAL database whose committed state lives partly in the database file and partly
in WAL frames, with a rolled-back transaction's frames after the last commit, and holds it
open (no checkpoint) until a line arrives on stdin.

Usage: wal_states.py DB PAGE_SIZE [--unpublished]
Prints "ready DB_BYTES WAL_BYTES ROWS" once the state is built; ROWS is the committed row
count of table t (the rolled-back rows are not in it).

With --unpublished, a commit frame is then appended to the WAL file by hand, after the
rolled-back frames, with valid salts and checksums, as a writer leaves it between writing
its frames and publishing them in the wal-index (-shm): SQLite's readers do not see it, and
a backup must not either. Its page is a copy of the last frame's.
"""
import os
import sqlite3
import struct
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


def checksum(data, s0, s1, big_endian):
    words = struct.unpack((">" if big_endian else "<") + "I" * (len(data) // 4), data)
    for i in range(0, len(words), 2):
        s0 = (s0 + words[i] + s1) & 0xFFFFFFFF
        s1 = (s1 + words[i + 1] + s0) & 0xFFFFFFFF
    return s0, s1


def append_unpublished_commit(wal_path):
    with open(wal_path, "r+b") as wal:
        header = wal.read(32)
        magic, _, size, _, salt1, salt2, s0, s1 = struct.unpack(">8I", header)
        big = magic & 1 == 1
        frames, last, pages = 0, None, 0
        while True:
            frame = wal.read(24 + size)
            if len(frame) < 24 + size:
                break
            page, truncate, f1, f2, c0, c1 = struct.unpack(">6I", frame[:24])
            n0, n1 = checksum(frame[:8] + frame[24:], s0, s1, big)
            if (f1, f2) != (salt1, salt2) or (c0, c1) != (n0, n1):
                break
            s0, s1, frames, last = n0, n1, frames + 1, (page, frame[24:])
            pages = truncate or pages
        page, data = last
        head = struct.pack(">4I", page, max(page, pages), salt1, salt2)
        c0, c1 = checksum(head[:8] + data, s0, s1, big)
        wal.seek(32 + frames * (24 + size))
        wal.write(head + struct.pack(">2I", c0, c1) + data)


if "--unpublished" in sys.argv:
    append_unpublished_commit(path + "-wal")
print("ready", os.path.getsize(path), os.path.getsize(path + "-wal"), rows, flush=True)
sys.stdin.readline()
c.close()

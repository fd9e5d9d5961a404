#!/usr/bin/env python3
"""`make bench-stall`: how long a writer waits while the suite backs up a live 1 GiB database.

For WAL and rollback-journal mode: copies bench/out/app-1024.db (made by `make bench`, or made
here), starts Tests/.../Fixtures/writer.py committing two-row transactions continuously into
table stall_items, runs the release `backup`, stops the writer, then restores the backup and
checks it holds exactly a committed prefix (ids 1..k, no gap, no torn transaction) and passes
integrity_check. Prints the writer's longest commit stall during the run.
"""
import json
import os
import sqlite3
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "bench", "out")
RELEASE = os.path.join(ROOT, ".build", "release")
WRITER = os.path.join(ROOT, "Tests", "BackupKitTests", "Fixtures", "writer.py")


def main():
    os.makedirs(OUT, exist_ok=True)
    source = os.path.join(OUT, "app-1024.db")
    if not os.path.exists(source):
        subprocess.run([sys.executable, os.path.join(ROOT, "bench", "make_db.py"), source, "1024"], check=True)
    key_file = os.path.join(OUT, "bench.key")
    if not os.path.exists(key_file):
        subprocess.run([os.path.join(RELEASE, "backup"), "--generate-key"], stdout=open(key_file, "w"), check=True)
        os.chmod(key_file, 0o600)
    keep = ("S3_",) if os.environ.get("STALL_S3") else ()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BACKUP_", "S3_", "AWS_")) or k.startswith(keep)}
    if os.environ.get("STALL_S3"):
        env["BACKUP_PREFIX"] = "stall-"
    env.update(BACKUP_ENCRYPTION_KEY_FILE=key_file, BACKUP_LOCAL_DIR=os.path.join(OUT, "stall"))
    print("| journal mode | backup | writer commits during it | longest commit stall | restored prefix |")
    print("|---|---|---|---|---|")
    for mode in os.environ.get("STALL_MODES", "wal delete").split():
        db = os.path.join(OUT, "stall-%s.db" % mode)
        for suffix in ("", "-wal", "-shm", "-journal"):
            if os.path.exists(db + suffix):
                os.remove(db + suffix)
        subprocess.run(["cp", source, db], check=True)
        conn = sqlite3.connect(db)
        conn.execute("PRAGMA journal_mode=%s" % mode)
        conn.execute("CREATE TABLE stall_items(id INTEGER PRIMARY KEY, body TEXT, n INTEGER)")
        conn.commit()
        conn.close()
        stop = os.path.join(OUT, "stall.stop")
        if os.path.exists(stop):
            os.remove(stop)
        writer = subprocess.Popen([sys.executable, WRITER, db, stop, "1", "stall_items"], stdout=subprocess.PIPE)
        time.sleep(1)
        started = time.monotonic()
        backup = subprocess.run(os.environ.get("STALL_PREFIX", "").split() + [os.path.join(RELEASE, "backup"), "--db", db, "--json", "--quiet"], env=env,
                                stdout=subprocess.PIPE, check=True)
        seconds = time.monotonic() - started
        open(stop, "w").close()
        report = json.loads(writer.communicate()[0])
        key = json.loads(backup.stdout)["key"]
        restored = os.path.join(OUT, "stall-restored.db")
        if os.path.exists(restored):
            os.remove(restored)
        subprocess.run([os.path.join(RELEASE, "restore"), "--key", key, "--out", restored, "--quiet"], env=env, check=True)
        ids = [row[0] for row in sqlite3.connect(restored).execute("SELECT id FROM stall_items ORDER BY id")]
        prefix = ids == list(range(1, len(ids) + 1)) and len(ids) % 2 == 0 and len(ids) <= report["last_id"]
        os.remove(restored)
        os.remove(db)
        print("| %s | %.1f s | %d | %.0f ms | %s (%d of %d rows) |" % (
            "WAL" if mode == "wal" else "rollback", seconds, report["commits"], report["longest_stall_ms"],
            "exact committed prefix" if prefix else "NOT A PREFIX", len(ids), report["last_id"]))


if __name__ == "__main__":
    main()

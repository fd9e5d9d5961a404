#!/usr/bin/env python3
"""`make bench` (second part): incremental backups against full ones and against restic, on the
same generated database and the same S3 server (SeaweedFS on loopback).

One sequence: a base backup; a backup with nothing changed; workload A (new audit-log rows, 1%
of all rows) and a backup; workload B (1% of the orders, chosen at random, change state) and a
backup; BENCH_ROUNDS rounds of A+B (default 100), each followed by a backup; clean-backup
--keep-last 5; then the last round's backup restored, against a full zstd backup of the same
state and its restore. Every suite backup reports its stages (backup --json stage_seconds:
reading the previous manifest, the pass that reads, names, compresses and seals, waiting for
quick_check, the pack's upload, the manifest), and the work folder's peak size is sampled while
it runs (the free disk a backup needs). restic 0.14 (Debian's, zstd,
content-defined chunks) backs up a snapshot of the same database (`sqlite3 .backup`, not
timed) after the same workloads, into the same S3 server; `restic forget --keep-last 5
--prune` is its clean. The sequence runs BENCH_RUNS times (default 3) on fresh copies: the
table shows medians, and the largest peak RSS.

Bytes uploaded and objects written are what the bucket gained (listed with boto3); the suite's
own figures (uploaded_bytes, objects_written in backup --json) must agree with them.

Environment: BENCH_INCREMENTAL_SIZE (MiB, default 1024), BENCH_RUNS (default 3), BENCH_ROUNDS (default 100),
BENCH_SHAPE (shop, the default, or notes: make_db.py's second shape, FTS5 kept by triggers,
half incompressible files, a WITHOUT ROWID table; its workloads add notes and edit bodies).
"""
import base64
import filecmp
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import OUT, RELEASE, ROOT, measured, start_s3  # noqa: E402

SIZE = int(os.environ.get("BENCH_INCREMENTAL_SIZE", "1024"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "100"))
MAKE_DB = os.path.join(ROOT, "bench", "make_db.py")
SHAPE = os.environ.get("BENCH_SHAPE", "shop")


class Bucket:
    def __init__(self, s3):
        import boto3
        self.name = s3["bucket"]
        self.client = boto3.client("s3", endpoint_url=s3["endpoint"], region_name="us-east-1",
                                   aws_access_key_id=s3["access_key"], aws_secret_access_key=s3["secret_key"])

    def usage(self, prefix):
        """(bytes, objects, {key: size}) under prefix."""
        sizes = {}
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.name, Prefix=prefix):
            for item in page.get("Contents", []):
                sizes[item["Key"]] = item["Size"]
        return sum(sizes.values()), len(sizes), sizes


def workload(db, kind, seed):
    subprocess.run([sys.executable, MAKE_DB, db, "--append" if kind == "A" else "--update", "1", "--seed", str(seed)],
                   check=True, stdout=subprocess.DEVNULL)


class FolderPeak:
    """Samples the size of a folder's files every 20 ms while a command runs: the peak."""

    def __init__(self, path):
        self.path, self.peak, self.stop = path, 0, threading.Event()
        self.thread = threading.Thread(target=self.sample, daemon=True)

    def size(self):
        total = 0
        for folder, _, files in os.walk(self.path):
            for name in files:
                try:
                    total += os.lstat(os.path.join(folder, name)).st_blocks * 512
                except FileNotFoundError:
                    pass
        return total

    def sample(self):
        while not self.stop.is_set():
            self.peak = max(self.peak, self.size())
            time.sleep(0.02)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *_):
        self.stop.set()
        self.thread.join()


def steps():
    """The sequence's steps: (label, workloads before the backup)."""
    yield "base", []
    yield "nothing changed", []
    yield "after A (append 1%)", ["A"]
    yield "after B (update 1%)", ["B"]
    for n in range(1, ROUNDS + 1):
        yield "round %d (A+B)" % n, ["A", "B"]


def suite_sequence(run, master, bucket, env):
    db = os.path.join(OUT, "inc.db")
    shutil.copyfile(master, db)
    prefix = "inc%d-" % run
    env = dict(env, BACKUP_PREFIX=prefix, BACKUP_COMPRESSION="zstd", BACKUP_LOCAL_DIR=os.path.join(OUT, "inc-state-%d" % run))
    shutil.rmtree(env["BACKUP_LOCAL_DIR"], ignore_errors=True)
    rows, seed, key = [], 1000 * run, None
    for label, loads in steps():
        for kind in loads:
            seed += 1
            workload(db, kind, seed)
        before = bucket.usage(prefix)
        with FolderPeak(os.path.join(env["BACKUP_LOCAL_DIR"], ".work")) as work:
            seconds, rss, out = measured([os.path.join(RELEASE, "backup"), "--db", db, "--incremental", "--json", "--quiet"], env)
        result = json.loads(out)
        after = bucket.usage(prefix)
        uploaded, objects = after[0] - before[0], after[1] - before[1]
        if (uploaded, objects) != (result["uploaded_bytes"], result["objects_written"]):
            sys.exit("backup --json says %s bytes in %s objects, the bucket gained %d in %d"
                     % (result["uploaded_bytes"], result["objects_written"], uploaded, objects))
        key = result["key"]
        manifest = after[2].get(key, 0)
        rows.append(dict(label=label, seconds=seconds, rss=rss, uploaded=uploaded, objects=objects, work=work.peak,
                         manifest=manifest, entries=result.get("manifest_entries", 0), stages=result.get("stage_seconds", {})))
    stored_before = bucket.usage(prefix)[0]
    seconds, rss, _ = measured([os.path.join(RELEASE, "clean-backup"), "--keep-last", "5", "--quiet"],
                               dict(env, BACKUP_ABANDONED_UPLOAD_HOURS="0"))
    stored_after = bucket.usage(prefix)[0]
    restored = os.path.join(OUT, "inc-restored.db")
    restore_seconds, restore_rss, _ = measured(
        [os.path.join(RELEASE, "restore"), "--key", key, "--out", restored, "--quiet"], env)
    # A full zstd backup of the same state, and its restore: the reference for sizes and restore time.
    full_env = dict(env, BACKUP_PREFIX="full%d-" % run)
    full_seconds, full_rss, out = measured([os.path.join(RELEASE, "backup"), "--db", db, "--json", "--quiet"], full_env)
    full = json.loads(out)
    full_restored = os.path.join(OUT, "full-restored.db")
    full_restore_seconds, _, _ = measured(
        [os.path.join(RELEASE, "restore"), "--key", full["key"], "--out", full_restored, "--quiet"], full_env)
    if not filecmp.cmp(restored, full_restored, shallow=False):
        sys.exit("the newest incremental backup and the full backup of the same state restored different files")
    for leftover in (restored, full_restored):
        os.remove(leftover)
    return dict(rows=rows, stored_before=stored_before, stored_after=stored_after, clean_seconds=seconds,
                restore_seconds=restore_seconds, restore_rss=restore_rss, full_seconds=full_seconds, full_rss=full_rss,
                full_stored=full["stored_size"], full_restore_seconds=full_restore_seconds)


def restic_sequence(run, master, bucket, s3):
    db = os.path.join(OUT, "restic.db")
    shutil.copyfile(master, db)
    snap = os.path.join(OUT, "restic-snapshot", "app.db")
    os.makedirs(os.path.dirname(snap), exist_ok=True)
    prefix = "restic%d" % run
    env = dict(os.environ, RESTIC_REPOSITORY="s3:%s/%s/%s" % (s3["endpoint"], s3["bucket"], prefix),
               RESTIC_PASSWORD=base64.b64encode(os.urandom(24)).decode(), AWS_ACCESS_KEY_ID=s3["access_key"],
               AWS_SECRET_ACCESS_KEY=s3["secret_key"], RESTIC_CACHE_DIR=os.path.join(OUT, "restic-cache-%d" % run))
    shutil.rmtree(env["RESTIC_CACHE_DIR"], ignore_errors=True)
    subprocess.run(["restic", "init", "--quiet"], env=env, check=True, stdout=subprocess.DEVNULL)
    rows, seed = [], 1000 * run
    for label, loads in steps():
        for kind in loads:
            seed += 1
            workload(db, kind, seed)
        if os.path.exists(snap):
            os.remove(snap)
        subprocess.run(["sqlite3", db, ".backup '%s'" % snap], check=True)
        before = bucket.usage(prefix + "/")
        seconds, rss, _ = measured(["restic", "backup", "--quiet", "--host", "bench", snap], env)
        after = bucket.usage(prefix + "/")
        rows.append(dict(label=label, seconds=seconds, rss=rss, uploaded=after[0] - before[0], objects=after[1] - before[1]))
    stored_before = bucket.usage(prefix + "/")[0]
    seconds, _, _ = measured(["restic", "forget", "--quiet", "--keep-last", "5", "--prune"], env)
    stored_after = bucket.usage(prefix + "/")[0]
    target = os.path.join(OUT, "restic-restore")
    shutil.rmtree(target, ignore_errors=True)
    restore_seconds, restore_rss, _ = measured(["restic", "restore", "latest", "--quiet", "--target", target], env)
    shutil.rmtree(target, ignore_errors=True)
    return dict(rows=rows, stored_before=stored_before, stored_after=stored_after, clean_seconds=seconds,
                restore_seconds=restore_seconds, restore_rss=restore_rss)


def full_backups(master, env, compression):
    """Medians of RUNS full backups of the base database to S3: seconds, stored bytes, peak RSS."""
    times, rss, stored = [], 0, 0
    for _ in range(RUNS):
        seconds, peak, out = measured([os.path.join(RELEASE, "backup"), "--db", master, "--json", "--quiet"],
                                      dict(env, BACKUP_COMPRESSION=compression, BACKUP_PREFIX="base-full-"))
        times.append(seconds)
        rss = max(rss, peak)
        stored = json.loads(out)["stored_size"]
    return statistics.median(times), stored, rss


def main():
    if shutil.which("restic") is None:
        sys.exit("restic is missing: run 'make bench-deps'")
    os.makedirs(OUT, exist_ok=True)
    s3 = start_s3()
    bucket = Bucket(s3)
    key_file = os.path.join(OUT, "bench.key")
    if not os.path.exists(key_file):
        with open(key_file, "w") as f:
            f.write(base64.b64encode(os.urandom(32)).decode())
        os.chmod(key_file, 0o600)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BACKUP_", "S3_", "AWS_", "WASABI_"))}
    env.update(S3_ENDPOINT=s3["endpoint"], S3_BUCKET=s3["bucket"], S3_ACCESS_KEY=s3["access_key"],
               S3_SECRET_KEY=s3["secret_key"], BACKUP_ENCRYPTION_KEY_FILE=key_file)
    if SHAPE not in ("shop", "notes"):
        sys.exit("BENCH_SHAPE=%s: use shop or notes" % SHAPE)
    master = os.path.join(OUT, "app-%d.db" % SIZE if SHAPE == "shop" else "app-%s-%d.db" % (SHAPE, SIZE))
    if not os.path.exists(master):
        print("making %s ..." % master, file=sys.stderr)
        subprocess.run([sys.executable, MAKE_DB, master, str(SIZE), "--shape", SHAPE], check=True)
    # WAL mode, as applications that write while they are backed up run SQLite: the snapshot is
    # read in place. (BENCH_JOURNAL=delete measures a rollback-journal database, which backup
    # copies first so that its writers wait only for the copy.)
    journal = os.environ.get("BENCH_JOURNAL", "wal")
    subprocess.run(["sqlite3", master, "PRAGMA journal_mode=%s" % journal], check=True, stdout=subprocess.DEVNULL)

    gzip_full = full_backups(master, env, "gzip")
    zstd_full = full_backups(master, env, "zstd")
    print("  full backups: gzip %.2f s, zstd %.2f s" % (gzip_full[0], zstd_full[0]), file=sys.stderr)
    suites, restics = [], []
    for run in range(RUNS):
        suites.append(suite_sequence(run, master, bucket, env))
        print("  run %d: suite done" % (run + 1), file=sys.stderr)
        restics.append(restic_sequence(run, master, bucket, s3))
        print("  run %d: restic done" % (run + 1), file=sys.stderr)

    def median(runs, index, field):
        return statistics.median(r["rows"][index][field] for r in runs)

    mib = lambda b: b / 2**20
    print()
    print("Incremental backups, %d MiB database (%s shape, journal mode %s), S3 (SeaweedFS on loopback), medians of %d runs, zstd level 3, %s-KiB blocks"
          % (SIZE, SHAPE, journal, RUNS, os.environ.get("BACKUP_BLOCK_SIZE_KB", "4")))
    print()
    print("| step | suite | uploaded | objects | peak RSS | restic | uploaded | objects | peak RSS | time vs restic | bytes vs restic |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    labels = [r["label"] for r in suites[0]["rows"]]
    for i, label in enumerate(labels):
        if label.startswith("round") and label not in ("round 1 (A+B)", "round 10 (A+B)", "round %d (A+B)" % ROUNDS):
            continue
        s_t, s_b, s_o = median(suites, i, "seconds"), median(suites, i, "uploaded"), median(suites, i, "objects")
        r_t, r_b, r_o = median(restics, i, "seconds"), median(restics, i, "uploaded"), median(restics, i, "objects")
        s_rss = max(r["rows"][i]["rss"] for r in suites) / 1024
        r_rss = max(r["rows"][i]["rss"] for r in restics) / 1024
        print("| %s | %.2f s | %.1f MiB | %d | %.0f MiB | %.2f s | %.1f MiB | %d | %.0f MiB | %.2fx | %.2fx |"
              % (label, s_t, mib(s_b), s_o, s_rss, r_t, mib(r_b), r_o, r_rss, s_t / r_t, s_b / max(1, r_b)))
    print()
    stage_names = ["previous_manifest", "pass", "check_wait", "pack_upload", "manifest"]
    print("Where the suite's time goes (medians, seconds), its manifest and the work folder's peak:")
    print()
    print("| step | " + " | ".join(stage_names) + " | manifest stored | entries | work folder peak |")
    print("|---|" + "---|" * (len(stage_names) + 3))
    for i, label in enumerate(labels):
        if label.startswith("round") and label not in ("round 1 (A+B)", "round 10 (A+B)", "round %d (A+B)" % ROUNDS):
            continue
        stages = [statistics.median(r["rows"][i]["stages"].get(name, 0) for r in suites) for name in stage_names]
        print("| %s | %s | %.1f KiB | %d | %.1f MiB |" % (label, " | ".join("%.2f" % s for s in stages),
              median(suites, i, "manifest") / 1024, median(suites, i, "entries"), max(r["rows"][i]["work"] for r in suites) / 2**20))
    print()
    full_t, full_b = zstd_full[0], zstd_full[1]
    for i, name in ((2, "A"), (3, "B")):
        t, b = median(suites, i, "seconds"), median(suites, i, "uploaded")
        print("after workload %s: %.1f%% of a full zstd backup's time (%.1f%% of gzip's), %.2f%% of its bytes"
              % (name, 100 * t / full_t, 100 * t / gzip_full[0], 100 * b / full_b))
    backups = len(labels)
    s_before = statistics.median(r["stored_before"] for r in suites)
    s_after = statistics.median(r["stored_after"] for r in suites)
    r_before = statistics.median(r["stored_before"] for r in restics)
    r_after = statistics.median(r["stored_after"] for r in restics)
    full_final = statistics.median(r["full_stored"] for r in suites)
    print("stored after %d backups: suite %.1f MiB, restic %.1f MiB, %d full zstd backups %.1f MiB (suite %.1f%% of that)"
          % (backups, mib(s_before), mib(r_before), backups, mib(backups * full_final), 100 * s_before / (backups * full_final)))
    print("stored after keeping the last 5: suite %.1f MiB, restic %.1f MiB, 5 full backups %.1f MiB (suite %.1f%%); clean %.2f s, restic forget --prune %.2f s"
          % (mib(s_after), mib(r_after), mib(5 * full_final), 100 * s_after / (5 * full_final),
             statistics.median(r["clean_seconds"] for r in suites), statistics.median(r["clean_seconds"] for r in restics)))
    inc_restore = statistics.median(r["restore_seconds"] for r in suites)
    full_restore = statistics.median(r["full_restore_seconds"] for r in suites)
    print("restore of the newest incremental backup (after %d rounds): %.2f s, of a full zstd backup of the same state %.2f s (%.2fx), restic restore %.2f s; peak RSS %.0f MiB"
          % (ROUNDS, inc_restore, full_restore, inc_restore / full_restore,
             statistics.median(r["restore_seconds"] for r in restics), max(r["restore_rss"] for r in suites) / 1024))
    restic_first = statistics.median(r["rows"][0]["seconds"] for r in restics)
    print("full backups of the base: gzip %.2f s %.1f MiB, zstd %.2f s %.1f MiB: zstd %.2fx faster, stored %+.1f%%; peak RSS %.0f / %.0f MiB"
          % (gzip_full[0], mib(gzip_full[1]), zstd_full[0], mib(zstd_full[1]), gzip_full[0] / zstd_full[0],
             100 * (zstd_full[1] / gzip_full[1] - 1), gzip_full[2] / 1024, zstd_full[2] / 1024))
    print("full zstd backup (snapshot included) %.2f s against restic's first backup of the snapshot %.2f s (snapshot not included): %.2fx"
          % (zstd_full[0], restic_first, restic_first / zstd_full[0]))


if __name__ == "__main__":
    main()

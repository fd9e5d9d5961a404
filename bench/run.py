#!/usr/bin/env python3
"""`make bench`: backup and restore of generated databases by this suite and by the tools
teams use today, on this machine, printed as one table.

Tools: the suite to the local folder and to S3 (SeaweedFS on loopback, checking signatures), each
with gzip (the default) and with zstd (BACKUP_COMPRESSION=zstd, level 3); the shell pipeline `sqlite3 .backup && gzip -6 | openssl enc | aws s3 cp -` and the same
with `pigz -p2`; and bench/python_peer.py (sqlite3 backup API, zlib 6, cryptography AES-GCM,
boto3). Each is run BENCH_RUNS times (default 3): the table shows the median wall time, MB/s
of database, the stored size and the peak RSS (the largest of the runs, of the whole process
tree, from wait4). Restores include PRAGMA integrity_check for every tool.

Environment: BENCH_SIZES (MiB, default "256 1024"), BENCH_RUNS (default 3), BENCH_TOOLS (only the
tools whose name contains this text, e.g. "suite").
"""
import base64
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "bench", "out")
RELEASE = os.path.join(ROOT, ".build", "release")
FIXTURES = os.path.join(ROOT, "Tests", "BackupKitTests", "Fixtures")
SIZES = [int(s) for s in os.environ.get("BENCH_SIZES", "256 1024").split()]
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
ONLY = os.environ.get("BENCH_TOOLS", "")


def measured(command, env, shell=False):
    """Runs command in a child that reports the peak RSS of its own process tree."""
    wrapper = ("import resource,subprocess,sys,time;"
               "t=time.monotonic();"
               "r=subprocess.run(sys.argv[2] if sys.argv[1]=='1' else sys.argv[2:], shell=sys.argv[1]=='1',"
               " executable='/bin/bash' if sys.argv[1]=='1' else None, stdout=subprocess.PIPE);"
               "d=time.monotonic()-t;"
               "sys.stderr.write('BENCH %f %d\\n' % (d, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss));"
               "sys.stdout.buffer.write(r.stdout); sys.exit(r.returncode)")
    args = [sys.executable, "-c", wrapper, "1" if shell else "0"] + ([command] if shell else command)
    process = subprocess.run(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if process.returncode != 0:
        sys.exit("failed (%d): %s\n%s" % (process.returncode, command, process.stderr.decode()[-2000:]))
    line = [l for l in process.stderr.decode().splitlines() if l.startswith("BENCH ")][-1].split()
    return float(line[1]), int(line[2]), process.stdout.decode()


def start_s3():
    info = os.path.join(OUT, "s3.json")
    for leftover in (info, info + ".log"):
        if os.path.exists(leftover):
            os.remove(leftover)
    # A fresh store each time: a bucket left by an earlier run belongs to other identities.
    shutil.rmtree(info + ".weed", ignore_errors=True)
    subprocess.Popen([sys.executable, os.path.join(FIXTURES, "s3_server.py"), info, str(os.getpid()), "--seaweed"],
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):
        if os.path.exists(info):
            return json.load(open(info))
        time.sleep(0.1)
    sys.exit("the S3 server (SeaweedFS) did not start; see %s.log" % info)


def object_size(env, key):
    import boto3
    s3 = boto3.client("s3", endpoint_url=env["S3_ENDPOINT"], region_name="us-east-1",
                      aws_access_key_id=env["S3_ACCESS_KEY"], aws_secret_access_key=env["S3_SECRET_KEY"])
    return s3.head_object(Bucket=env["S3_BUCKET"], Key=key)["ContentLength"]


def main():
    os.makedirs(OUT, exist_ok=True)
    s3 = start_s3()
    key_b64 = base64.b64encode(os.urandom(32)).decode()
    key_file = os.path.join(OUT, "bench.key")
    with open(key_file, "w") as f:
        f.write(key_b64)
    os.chmod(key_file, 0o600)
    base = dict(os.environ)
    for name in list(base):
        if name.startswith(("BACKUP_", "S3_", "AWS_", "WASABI_")):
            del base[name]
    s3_env = dict(base, S3_ENDPOINT=s3["endpoint"], S3_BUCKET=s3["bucket"], S3_ACCESS_KEY=s3["access_key"],
                  S3_SECRET_KEY=s3["secret_key"], AWS_ACCESS_KEY_ID=s3["access_key"],
                  AWS_SECRET_ACCESS_KEY=s3["secret_key"], AWS_DEFAULT_REGION="us-east-1", BENCH_KEY=key_b64,
                  BENCH_PASS=key_b64)
    rows = []
    for size in SIZES:
        db = os.path.join(OUT, "app-%d.db" % size)
        if not os.path.exists(db):
            print("making %s ..." % db, file=sys.stderr)
            subprocess.run([sys.executable, os.path.join(ROOT, "bench", "make_db.py"), db, str(size)], check=True)
        mib = os.path.getsize(db) / 2**20
        snap, restored = os.path.join(OUT, "snap.db"), os.path.join(OUT, "restored.db")
        aws = "aws --endpoint-url %s s3 cp" % s3["endpoint"]
        url = "s3://%s/shell-%d.gz.enc" % (s3["bucket"], size)
        shell = {
            "gzip": ("gzip -6 -c", "gzip -dc"),
            "pigz": ("pigz -p2 -6 -c", "pigz -dc"),
        }
        tools = [
            ("suite, local folder", dict(base, BACKUP_ENCRYPTION_KEY_FILE=key_file, BACKUP_LOCAL_DIR=os.path.join(OUT, "local")), "suite"),
            ("suite, S3 (SeaweedFS)", dict(s3_env, BACKUP_ENCRYPTION_KEY_FILE=key_file, BACKUP_PREFIX="suite-",
                                      BACKUP_LOCAL_DIR=os.path.join(OUT, "state")), "suite"),
            ("suite zstd, local folder", dict(base, BACKUP_ENCRYPTION_KEY_FILE=key_file, BACKUP_COMPRESSION="zstd",
                                              BACKUP_LOCAL_DIR=os.path.join(OUT, "local")), "suite"),
            ("suite zstd, S3 (SeaweedFS)", dict(s3_env, BACKUP_ENCRYPTION_KEY_FILE=key_file, BACKUP_PREFIX="suite-",
                                                BACKUP_COMPRESSION="zstd", BACKUP_LOCAL_DIR=os.path.join(OUT, "state")), "suite"),
            ("shell: gzip, openssl enc, aws s3 cp", s3_env, "gzip"),
            ("shell: pigz -p2, openssl enc, aws s3 cp", s3_env, "pigz"),
            ("Python (boto3 + cryptography)", s3_env, "python"),
        ]
        for name, env, kind in tools:
            if ONLY not in name:
                continue
            backups, restores, stored = [], [], 0
            for attempt in range(RUNS):
                for leftover in (snap, restored):
                    if os.path.exists(leftover):
                        os.remove(leftover)
                if kind == "suite":
                    seconds, rss, out = measured([os.path.join(RELEASE, "backup"), "--db", db, "--json", "--quiet"], env)
                    result = json.loads(out)
                    stored, object_key = result["stored_size"], result["key"]
                    backups.append((seconds, rss))
                    seconds, rss, _ = measured([os.path.join(RELEASE, "restore"), "--key", object_key, "--out", restored, "--quiet"], env)
                elif kind == "python":
                    peer = os.path.join(ROOT, "bench", "python_peer.py")
                    seconds, rss, out = measured([sys.executable, peer, "backup", db, "python-%d.gz.enc" % size], env)
                    stored = int(out.strip())
                    backups.append((seconds, rss))
                    seconds, rss, _ = measured([sys.executable, peer, "restore", "python-%d.gz.enc" % size, restored], env)
                else:
                    compress, decompress = shell[kind]
                    seconds, rss, _ = measured(
                        "set -eo pipefail; sqlite3 %s '.backup %s' && %s %s | openssl enc -aes-256-ctr -pbkdf2 -pass env:BENCH_PASS"
                        " | %s - %s --only-show-errors; rm -f %s" % (db, snap, compress, snap, aws, url, snap), env, shell=True)
                    stored = object_size(env, url[len("s3://%s/" % s3["bucket"]):])
                    backups.append((seconds, rss))
                    seconds, rss, _ = measured(
                        "set -eo pipefail; %s %s - --only-show-errors | openssl enc -d -aes-256-ctr -pbkdf2 -pass env:BENCH_PASS"
                        " | %s > %s && [ \"$(sqlite3 %s 'pragma integrity_check')\" = ok ]" % (aws, url, decompress, restored, restored),
                        env, shell=True)
                restores.append((seconds, rss))
            b = statistics.median(s for s, _ in backups)
            r = statistics.median(s for s, _ in restores)
            rows.append((size, name, b, mib / b, r, stored, max(m for _, m in backups), max(m for _, m in restores)))
            print("  %5d MiB  %-32s backup %6.2f s  restore %6.2f s" % (size, name, b, r), file=sys.stderr)
    for leftover in (os.path.join(OUT, "snap.db"), os.path.join(OUT, "restored.db")):
        if os.path.exists(leftover):
            os.remove(leftover)

    print()
    print("| DB | tool | backup (median) | MB/s | restore (median) | stored | peak RSS backup | peak RSS restore |")
    print("|---|---|---|---|---|---|---|---|")
    for size, name, b, rate, r, stored, rb, rr in rows:
        print("| %d MiB | %s | %.2f s | %.0f | %.2f s | %.1f MiB | %.1f MiB | %.1f MiB |"
              % (size, name, b, rate, r, stored / 2**20, rb / 1024, rr / 1024))
    print()
    for size in SIZES:
        mine = {name: (b, r, stored) for s, name, b, _, r, stored, _, _ in rows if s == size}
        if "suite, S3 (SeaweedFS)" not in mine:
            continue
        sb, sr, ss = mine["suite, S3 (SeaweedFS)"]
        if "suite zstd, S3 (SeaweedFS)" in mine:
            zb, zr, zs = mine["suite zstd, S3 (SeaweedFS)"]
            print("%d MiB, suite to S3, zstd vs gzip: backup %.2fx faster, restore %.2fx faster, stored size %+.1f%%"
                  % (size, sb / zb, sr / zr, (zs / ss - 1) * 100))
        for name, (b, r, stored) in mine.items():
            if name.startswith("suite"):
                continue
            print("%d MiB, suite to S3 vs %s: backup %.1fx faster, restore %.1fx faster, stored size %+.1f%%"
                  % (size, name, b / sb, r / sr, (ss / stored - 1) * 100))


if __name__ == "__main__":
    main()

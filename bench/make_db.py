#!/usr/bin/env python3
"""Makes a reproducible SQLite database that looks like a web application's, for benchmarks.

Usage: make_db.py PATH SIZE_MIB [--wal] [--seed N]

Accounts, login sessions with hex tokens, orders with JSON line items, an append-only audit
log and some binary attachments, in the proportions that make the file compress about 3x
with gzip -6, as real application data does (not zeros, not noise). Same seed, same file.
"""
import argparse
import json
import os
import random
import sqlite3

VOCABULARY = ("account billing cart checkout coupon customer delivery discount email export "
              "failed invoice item login logout order paid payment pending profile refund "
              "report request retry session shipped signup status subscription success "
              "timeout token update upload user warehouse webhook").split()
CITIES = ["Jakarta", "Bandung", "Surabaya", "Lisbon", "Porto", "Berlin", "Lyon", "Osaka", "Austin", "Quito"]


def words(rng, n):
    return " ".join(rng.choice(VOCABULARY) for _ in range(n))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("size_mib", type=int)
    parser.add_argument("--wal", action="store_true")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    for suffix in ("", "-wal", "-shm", "-journal"):
        if os.path.exists(args.path + suffix):
            os.remove(args.path + suffix)
    db = sqlite3.connect(args.path)
    db.execute("PRAGMA journal_mode=%s" % ("WAL" if args.wal else "DELETE"))
    db.execute("PRAGMA synchronous=OFF")
    db.executescript("""
        CREATE TABLE accounts(id INTEGER PRIMARY KEY, email TEXT UNIQUE, display_name TEXT, city TEXT,
                              created_at INTEGER, about TEXT);
        CREATE TABLE sessions(token TEXT PRIMARY KEY, account_id INTEGER, user_agent TEXT, expires_at INTEGER);
        CREATE TABLE orders(id INTEGER PRIMARY KEY, account_id INTEGER, state TEXT, total_cents INTEGER,
                            lines TEXT, placed_at INTEGER);
        CREATE INDEX orders_by_account ON orders(account_id, placed_at);
        CREATE TABLE audit_log(id INTEGER PRIMARY KEY, at INTEGER, level TEXT, actor INTEGER, message TEXT);
        CREATE TABLE attachments(id INTEGER PRIMARY KEY, order_id INTEGER, content BLOB);
    """)
    target = args.size_mib << 20
    account = order = event = attachment = 0
    clock = 1_760_000_000
    while True:
        with db:
            for _ in range(100):
                account += 1
                db.execute("INSERT INTO accounts VALUES (?,?,?,?,?,?)",
                           (account, "member%d@example.org" % account, words(rng, 2).title(), rng.choice(CITIES),
                            clock + account, words(rng, rng.randint(5, 15))))
                db.execute("INSERT INTO sessions VALUES (?,?,?,?)",
                           ("%032x" % rng.getrandbits(128), account,
                            "Mozilla/5.0 (%s) app/%d.%d" % (rng.choice(["X11; Linux", "Macintosh", "Windows NT 10.0"]),
                                                            rng.randint(1, 9), rng.randint(0, 20)),
                            clock + 86400 * 30))
            for _ in range(600):
                order += 1
                lines = [{"sku": "SKU-%05d" % rng.randint(1, 40000), "qty": rng.randint(1, 4),
                          "unit_cents": rng.randint(199, 49999)} for _ in range(rng.randint(1, 5))]
                db.execute("INSERT INTO orders VALUES (?,?,?,?,?,?)",
                           (order, rng.randint(1, account), rng.choice(["paid", "shipped", "pending", "refunded"]),
                            sum(l["qty"] * l["unit_cents"] for l in lines),
                            json.dumps({"lines": lines, "note": words(rng, rng.randint(0, 8))}), clock + order))
            for _ in range(1500):
                event += 1
                db.execute("INSERT INTO audit_log VALUES (?,?,?,?,?)",
                           (event, clock + event, rng.choice(["info", "info", "warn", "error"]), rng.randint(1, account),
                            words(rng, rng.randint(3, 18))))
            for _ in range(4):
                attachment += 1
                db.execute("INSERT INTO attachments VALUES (?,?,?)", (attachment, rng.randint(1, order), rng.randbytes(5000)))
        size = os.path.getsize(args.path) + (os.path.getsize(args.path + "-wal") if os.path.exists(args.path + "-wal") else 0)
        if size >= target:
            break
    db.close()
    print("%s: %d bytes" % (args.path, os.path.getsize(args.path)))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Makes a reproducible SQLite database that looks like a web application's, for benchmarks,
and changes it the way the incremental benchmark's workloads do.

Usage: make_db.py PATH SIZE_MIB [--wal] [--seed N] [--shape shop|notes]
       make_db.py PATH --append PERCENT [--seed N]   (workload A: new audit-log rows, PERCENT% of all rows)
       make_db.py PATH --update PERCENT [--seed N]   (workload B: PERCENT% of the orders, chosen at random, updated)

Accounts, login sessions with hex tokens, orders with JSON line items, an append-only audit
log and some binary attachments, in the proportions that make the file compress about 3x
with gzip -6, as real application data does (not zeros, not noise). Same seed, same file.
`--shape notes` makes the second shape instead (notes_shape.py: FTS5 kept by triggers, half
incompressible files, a WITHOUT ROWID table); the workloads find the shape in the file.
"""
import argparse
import json
import os
import random
import sqlite3
import sys

import notes_shape

VOCABULARY = ("account billing cart checkout coupon customer delivery discount email export "
              "failed invoice item login logout order paid payment pending profile refund "
              "report request retry session shipped signup status subscription success "
              "timeout token update upload user warehouse webhook").split()
CITIES = ["Jakarta", "Bandung", "Surabaya", "Lisbon", "Porto", "Berlin", "Lyon", "Osaka", "Austin", "Quito"]
STATES = ["paid", "shipped", "pending", "refunded"]
CLOCK = 1_760_000_000


def words(rng, n):
    return " ".join(rng.choice(VOCABULARY) for _ in range(n))


class Rows:
    """Inserts rows in the generator's proportions, continuing after the ids already there."""

    def __init__(self, db, rng):
        self.db, self.rng = db, rng
        last = lambda table: db.execute("SELECT coalesce(max(id), 0) FROM %s" % table).fetchone()[0]
        self.account, self.order = last("accounts"), last("orders")
        self.event, self.attachment = last("audit_log"), last("attachments")

    def batch(self):
        db, rng = self.db, self.rng
        for _ in range(100):
            self.account += 1
            db.execute("INSERT INTO accounts VALUES (?,?,?,?,?,?)",
                       (self.account, "member%d@example.org" % self.account, words(rng, 2).title(), rng.choice(CITIES),
                        CLOCK + self.account, words(rng, rng.randint(5, 15))))
            db.execute("INSERT INTO sessions VALUES (?,?,?,?)",
                       ("%032x" % rng.getrandbits(128), self.account,
                        "Mozilla/5.0 (%s) app/%d.%d" % (rng.choice(["X11; Linux", "Macintosh", "Windows NT 10.0"]),
                                                        rng.randint(1, 9), rng.randint(0, 20)),
                        CLOCK + 86400 * 30))
        for _ in range(600):
            self.order += 1
            lines = [{"sku": "SKU-%05d" % rng.randint(1, 40000), "qty": rng.randint(1, 4),
                      "unit_cents": rng.randint(199, 49999)} for _ in range(rng.randint(1, 5))]
            db.execute("INSERT INTO orders VALUES (?,?,?,?,?,?)",
                       (self.order, rng.randint(1, self.account), rng.choice(STATES),
                        sum(l["qty"] * l["unit_cents"] for l in lines),
                        json.dumps({"lines": lines, "note": words(rng, rng.randint(0, 8))}), CLOCK + self.order))
        for _ in range(1500):
            self.event += 1
            db.execute("INSERT INTO audit_log VALUES (?,?,?,?,?)",
                       (self.event, CLOCK + self.event, rng.choice(["info", "info", "warn", "error"]),
                        rng.randint(1, self.account), words(rng, rng.randint(3, 18))))
        for _ in range(4):
            self.attachment += 1
            db.execute("INSERT INTO attachments VALUES (?,?,?)",
                       (self.attachment, rng.randint(1, self.order), rng.randbytes(5000)))


def create(db, path, size_mib, rng, shape="shop"):
    db.execute("PRAGMA synchronous=OFF")
    if shape == "notes":
        db.executescript(notes_shape.SCHEMA)
        rows = notes_shape.Notes(db, rng)
    else:
        create_shop(db)
        rows = Rows(db, rng)
    while True:
        with db:
            rows.batch()
        size = os.path.getsize(path) + (os.path.getsize(path + "-wal") if os.path.exists(path + "-wal") else 0)
        if size >= size_mib << 20:
            break


def create_shop(db):
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


def append(db, percent, rng):
    """Workload A: new rows in the append-only audit log, PERCENT% of the database's rows."""
    rows = Rows(db, rng)
    total = sum(db.execute("SELECT count(*) FROM %s" % t).fetchone()[0]
                for t in ("accounts", "sessions", "orders", "audit_log", "attachments"))
    with db:
        for _ in range(max(1, round(total * percent / 100))):
            rows.event += 1
            db.execute("INSERT INTO audit_log VALUES (?,?,?,?,?)",
                       (rows.event, CLOCK + rows.event, rng.choice(["info", "info", "warn", "error"]),
                        rng.randint(1, rows.account), words(rng, rng.randint(3, 18))))


def update(db, percent, rng):
    """Workload B: PERCENT% of the orders, chosen at random, change state (as orders get paid, shipped, refunded)."""
    ids = [r[0] for r in db.execute("SELECT id FROM orders")]
    with db:
        for order in rng.sample(ids, max(1, len(ids) * percent // 100)):
            db.execute("UPDATE orders SET state = ? WHERE id = ?", (rng.choice(STATES), order))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("size_mib", type=int, nargs="?")
    parser.add_argument("--wal", action="store_true")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--append", type=float, metavar="PERCENT")
    parser.add_argument("--update", type=int, metavar="PERCENT")
    parser.add_argument("--shape", choices=["shop", "notes"], default="shop")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    if args.append is not None or args.update is not None:
        db = sqlite3.connect(args.path)
        shape = notes_shape if notes_shape.is_notes(db) else sys.modules[__name__]
        if args.append is not None:
            shape.append(db, args.append, rng)
        if args.update is not None:
            shape.update(db, args.update, rng)
        db.close()
        return
    if args.size_mib is None:
        parser.error("SIZE_MIB is needed to make a database")
    for suffix in ("", "-wal", "-shm", "-journal"):
        if os.path.exists(args.path + suffix):
            os.remove(args.path + suffix)
    db = sqlite3.connect(args.path)
    db.execute("PRAGMA journal_mode=%s" % ("WAL" if args.wal else "DELETE"))
    create(db, args.path, args.size_mib, rng, args.shape)
    db.close()
    print("%s: %d bytes" % (args.path, os.path.getsize(args.path)))


if __name__ == "__main__":
    main()

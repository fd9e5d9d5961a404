"""Compares two SQLite databases: the same tables, and in each the same rows.

usage: compare_dbs.py A.db B.db    prints 'same' and exits 0, or names the first difference and exits 1.
"""
import sqlite3
import sys


def tables(db):
    return sorted(r[0] for r in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"))


def main():
    a, b = (sqlite3.connect(path) for path in sys.argv[1:3])
    if tables(a) != tables(b):
        sys.exit(f"tables differ: {tables(a)} vs {tables(b)}")
    for name in tables(a):
        # Sorted here, not by ORDER BY: a table may have one column (FTS5's shadow tables).
        query = f'SELECT * FROM "{name}"'
        rows_a, rows_b = sorted(a.execute(query), key=repr), sorted(b.execute(query), key=repr)
        if rows_a != rows_b:
            sys.exit(f"table {name} differs: {len(rows_a)} vs {len(rows_b)} rows")
    for kind in ("index", "view", "trigger"):
        query = f"SELECT name, sql FROM sqlite_master WHERE type = '{kind}' AND sql IS NOT NULL ORDER BY name"
        if list(a.execute(query)) != list(b.execute(query)):
            sys.exit(f"{kind}es differ")
    print("same")


if __name__ == "__main__":
    main()

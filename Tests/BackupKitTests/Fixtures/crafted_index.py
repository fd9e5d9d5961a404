"""Builds a database whose index records are written otherwise than SQLite writes them, for the
split integrity check's tests (found by adversarial passes). Each passes quick_check; one whole
integrity_check sees the damage, so the split check must too.

    crafted_index.py MODE PATH

MODE: padded-rowid-type (the rowid's serial type as 80 01), padded-header-size (a text record's
header size as 80 04), padded-key-type (a UNIQUE index's key type as 80 80 80 01), long-payload-size
(a cell's payload size as a 9-byte varint that SQLite's b-tree reads as 5 and dbstat as 133),
trigger-named-as-index (a trigger's schema row named as the index, pointing at a sound copy of it,
while the index itself is damaged), empty-leaf-page (a leaf without cells hung into the index),
table-named-sqlite_temp_master (a main table of that name, which lookups without a schema miss
for temp's, with a damaged index)."""
import os
import sqlite3
import struct
import sys

ROWS = 3000


def varint(b, i):
    v = 0
    for k in range(8):
        c = b[i + k]
        v = (v << 7) | (c & 0x7F)
        if c < 0x80:
            return v, k + 1
    return (v << 8) | b[i + 8], 9


def encode(v):
    if v < 0x80:
        return bytes([v])
    out = []
    while v:
        out.append(v & 0x7F)
        v >>= 7
    out.reverse()
    return bytes([c | 0x80 for c in out[:-1]] + [out[-1]])


def leaf_cells(page):
    n = struct.unpack(">H", page[3:5])[0]
    cells = []
    for k in range(n):
        at = struct.unpack(">H", page[8 + 2 * k:10 + 2 * k])[0]
        size, length = varint(page, at)
        cells.append(bytes(page[at + length:at + length + size]))
    return cells


def build_leaf(cells, page_size, reserved):
    page = bytearray(page_size)
    page[0] = 0x0A
    end = page_size - reserved
    pointers = []
    for record in cells:
        cell = encode(len(record)) + record
        end -= len(cell)
        page[end:end + len(cell)] = cell
        pointers.append(end)
    assert 8 + 2 * len(cells) <= end
    page[3:5] = struct.pack(">H", len(cells))
    page[5:7] = struct.pack(">H", end % 65536)
    for k, p in enumerate(pointers):
        page[8 + 2 * k:10 + 2 * k] = struct.pack(">H", p)
    return page


def leaves(path, index):
    db = sqlite3.connect(path)
    page_size = db.execute("PRAGMA page_size").fetchone()[0]
    pages = [r[0] for r in db.execute("SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY path", (index,))]
    db.close()
    return page_size, pages


def edit_record(path, index, old, new):
    page_size, pages = leaves(path, index)
    data = bytearray(open(path, "rb").read())
    for number in pages:
        page = data[(number - 1) * page_size:number * page_size]
        cells = leaf_cells(page)
        if old in cells:
            cells[cells.index(old)] = new
            data[(number - 1) * page_size:number * page_size] = build_leaf(cells, page_size, data[20])
            open(path, "wb").write(data)
            return
    sys.exit("no record %r in %s" % (old, index))


def make(path, schema, fill):
    if os.path.exists(path):
        os.remove(path)
    db = sqlite3.connect(path)
    db.executescript(schema + "; WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d) %s" % (ROWS, fill))
    return db


def main(mode, path):
    if mode == "padded-rowid-type":
        make(path, "CREATE TABLE t(a INTEGER); CREATE INDEX t_a ON t(a)", "INSERT INTO t(rowid, a) SELECT i, i * 3 FROM n").close()
        edit_record(path, "t_a", bytes([3, 1, 1, 15, 5]), bytes([4, 1, 0x80, 1, 15, 5]))
    elif mode == "padded-header-size":
        make(path, "CREATE TABLE t(a TEXT); CREATE INDEX t_a ON t(a)", "INSERT INTO t(rowid, a) SELECT i, printf('k%06d', i) FROM n").close()
        old = bytes([3, 0x1B, 1]) + b"k000005" + bytes([5])
        edit_record(path, "t_a", old, bytes([0x80, 4]) + old[1:])
    elif mode == "padded-key-type":
        make(path, "CREATE TABLE t(a INTEGER, b INTEGER); CREATE UNIQUE INDEX t_ab ON t(a, b)",
             "INSERT INTO t(rowid, a, b) SELECT i, i * 3, 7 FROM n").close()
        edit_record(path, "t_ab", bytes([4, 1, 1, 1, 15, 7, 5]), bytes([7, 1, 0x80, 0x80, 0x80, 1, 1, 15, 7, 5]))
    elif mode == "long-payload-size":
        db = make(path, "CREATE TABLE t(a INTEGER); CREATE INDEX t_a ON t(a)", "INSERT INTO t(rowid, a) SELECT i, i * 3 FROM n")
        # The last entry's blob holds, at its second byte, what SQLite will read as a freeblock header.
        db.execute("INSERT INTO t(rowid, a) VALUES (?, ?)", (ROWS + 1, bytes([0xAA, 0, 0, 0, 0x80]) + b"\xBB" * 122))
        db.commit()
        db.close()
        page_size, pages = leaves(path, "t_a")
        number = pages[-1]
        data = bytearray(open(path, "rb").read())
        cells = leaf_cells(data[(number - 1) * page_size:number * page_size])
        record = cells[-1]
        assert len(record) == 133 and record[-2:] == struct.pack(">H", ROWS + 1), record[:8]
        page = build_leaf(cells[:-1], page_size, data[20])
        top = struct.unpack(">H", page[5:7])[0]
        cell = bytes([0x80] * 8 + [0x85]) + record
        start = top - len(cell)
        page[start:start + len(cell)] = cell
        assert page[start + 14:start + 18] == bytes([0, 0, 0, 0x80])
        page[1:3] = struct.pack(">H", start + 14)
        count = len(cells)
        page[3:5] = struct.pack(">H", count)
        page[5:7] = struct.pack(">H", start)
        page[8 + 2 * (count - 1):8 + 2 * count] = struct.pack(">H", start)
        data[(number - 1) * page_size:number * page_size] = page
        open(path, "wb").write(data)
    elif mode == "trigger-named-as-index":
        db = make(path, "CREATE TABLE t(a INTEGER)", "INSERT INTO t(rowid, a) SELECT i, i * 3 FROM n")
        db.executescript("CREATE INDEX t_c ON t(a); CREATE TRIGGER t_a AFTER DELETE ON t BEGIN SELECT 1; END; CREATE INDEX t_a ON t(a);")
        copy = db.execute("SELECT rootpage FROM sqlite_schema WHERE name = 't_c'").fetchone()[0]
        db.execute("PRAGMA writable_schema = ON")
        db.execute("UPDATE sqlite_schema SET rootpage = ? WHERE type = 'trigger'", (copy,))
        db.execute("UPDATE sqlite_schema SET name = 'T_A' WHERE type = 'index' AND name = 't_a'")
        db.commit()
        db.close()
        edit_record(path, "T_A", bytes([3, 1, 1, 30, 10]), bytes([3, 1, 1, 31, 10]))
    elif mode == "empty-leaf-page":
        db = make(path, "CREATE TABLE z(x); INSERT INTO z VALUES (1); CREATE TABLE t(a INTEGER)", "INSERT INTO t(rowid, a) SELECT i, i * 3 FROM n")
        db.executescript("CREATE INDEX t_a ON t(a); DROP TABLE z;")
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
        root = db.execute("SELECT rootpage FROM sqlite_schema WHERE name = 't_a'").fetchone()[0]
        db.close()
        data = bytearray(open(path, "rb").read())
        assert struct.unpack(">I", data[36:40])[0] == 1, "one free page"
        free = struct.unpack(">I", data[32:36])[0]
        data[32:40] = bytes(8)  # off the free list, into the index
        page = lambda n: data[(n - 1) * page_size:n * page_size]
        top = page(root)
        assert top[0] == 0x02, "the index has an interior root"
        cells = []
        for k in range(struct.unpack(">H", top[3:5])[0]):
            at = struct.unpack(">H", top[12 + 2 * k:14 + 2 * k])[0]
            size, length = varint(top, at + 4)
            cells.append((struct.unpack(">I", top[at:at + 4])[0], bytes(top[at + 4:at + 4 + length + size])))
        right = struct.unpack(">I", top[8:12])[0]
        first = page(cells[0][0])
        leaf = []
        for k in range(struct.unpack(">H", first[3:5])[0]):
            at = struct.unpack(">H", first[8 + 2 * k:10 + 2 * k])[0]
            size, length = varint(first, at)
            leaf.append(bytes(first[at:at + length + size]))
        moved = leaf.pop()  # the first leaf's last cell goes up, between it and the empty page

        def build(kind, cell_bytes, right_child=None):
            built = bytearray(page_size)
            built[0] = kind
            header = 12 if kind == 0x02 else 8
            end = page_size
            pointers = []
            for c in cell_bytes:
                end -= len(c)
                built[end:end + len(c)] = c
                pointers.append(end)
            built[3:5] = struct.pack(">H", len(cell_bytes))
            built[5:7] = struct.pack(">H", end % 65536)
            if right_child is not None:
                built[8:12] = struct.pack(">I", right_child)
            for k, q in enumerate(pointers):
                built[header + 2 * k:header + 2 * k + 2] = struct.pack(">H", q)
            return built
        interior = [struct.pack(">I", cells[0][0]) + moved, struct.pack(">I", free) + cells[0][1]] + [struct.pack(">I", c) + p for c, p in cells[1:]]
        data[(root - 1) * page_size:root * page_size] = build(0x02, interior, right)
        data[(cells[0][0] - 1) * page_size:cells[0][0] * page_size] = build(0x0A, leaf)
        data[(free - 1) * page_size:free * page_size] = build(0x0A, [])
        open(path, "wb").write(data)
    elif mode == "table-named-sqlite_temp_master":
        db = make(path, "CREATE TABLE x(a INTEGER)", "INSERT INTO x(rowid, a) SELECT i, i * 3 FROM n")
        db.executescript("""
            CREATE INDEX x_a ON x(a);
            PRAGMA writable_schema = ON;
            UPDATE sqlite_schema SET name = 'sqlite_temp_master', tbl_name = 'sqlite_temp_master',
                sql = 'CREATE TABLE sqlite_temp_master(a INTEGER)' WHERE name = 'x';
            UPDATE sqlite_schema SET tbl_name = 'sqlite_temp_master', sql = 'CREATE INDEX x_a ON sqlite_temp_master(a)' WHERE name = 'x_a';
            """)
        db.commit()
        db.close()
        edit_record(path, "x_a", bytes([3, 2, 2]) + (1500).to_bytes(2, "big") + (500).to_bytes(2, "big"),
                    bytes([3, 2, 2]) + (1501).to_bytes(2, "big") + (500).to_bytes(2, "big"))
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

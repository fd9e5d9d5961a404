"""The second database shape of the benchmarks (make_db.py --shape notes): a notes app, unlike
the web-shop shape. Notes searched through an FTS5 index kept by triggers, one index on the
notes, files whose content is half random bytes (incompressible) and half repetitive, and a
WITHOUT ROWID key-value table with small random values. Workload A adds notes (1% of the
rows), workload B edits the bodies of 1% of the notes, chosen at random (the triggers rewrite
their FTS5 entries)."""

VOCABULARY = ("alpha beta gamma delta invoice payment shipped refund customer warehouse login session token "
              "report export upload webhook retry timeout status profile coupon discount cart checkout").split()
CLOCK = 1_760_000_000

SCHEMA = """
    CREATE TABLE notes(id INTEGER PRIMARY KEY, title TEXT NOT NULL, body TEXT, tags TEXT, updated_at INTEGER);
    CREATE INDEX notes_updated ON notes(updated_at);
    CREATE VIRTUAL TABLE notes_fts USING fts5(title, body, content='notes', content_rowid='id');
    CREATE TRIGGER notes_ai AFTER INSERT ON notes BEGIN
        INSERT INTO notes_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END;
    CREATE TRIGGER notes_ad AFTER DELETE ON notes BEGIN
        INSERT INTO notes_fts(notes_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body); END;
    CREATE TRIGGER notes_au AFTER UPDATE ON notes BEGIN
        INSERT INTO notes_fts(notes_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
        INSERT INTO notes_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END;
    CREATE TABLE files(id INTEGER PRIMARY KEY, note_id INTEGER, name TEXT, data BLOB);
    CREATE TABLE kv(k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID;
"""


def text(rng, n):
    return " ".join(rng.choice(VOCABULARY) for _ in range(n))


class Notes:
    def __init__(self, db, rng):
        self.db, self.rng = db, rng
        self.note = db.execute("SELECT coalesce(max(id), 0) FROM notes").fetchone()[0]

    def add(self):
        db, rng = self.db, self.rng
        self.note += 1
        db.execute("INSERT INTO notes VALUES (?,?,?,?,?)", (self.note, text(rng, 4), text(rng, rng.randint(20, 200)),
                   ",".join(rng.sample(VOCABULARY, 3)), CLOCK + self.note))
        db.execute("INSERT INTO kv VALUES (?,?)", ("key-%08x-%d" % (rng.getrandbits(32), self.note), rng.randbytes(rng.randint(10, 200))))

    def add_file(self):
        rng = self.rng
        data = rng.randbytes(rng.randint(1000, 60000)) if rng.random() < 0.5 else (b"%d," % self.note) * rng.randint(300, 8000)
        self.db.execute("INSERT INTO files(note_id, name, data) VALUES (?,?,?)", (rng.randint(1, self.note), "f%d.bin" % self.note, data))

    def batch(self):
        for _ in range(500):
            self.add()
        for _ in range(12):
            self.add_file()


def is_notes(db):
    return db.execute("SELECT 1 FROM sqlite_schema WHERE name = 'notes_fts'").fetchone() is not None


def append(db, percent, rng):
    """Workload A: new notes (each with a key-value row), PERCENT% of the database's rows."""
    notes = Notes(db, rng)
    total = sum(db.execute("SELECT count(*) FROM %s" % t).fetchone()[0] for t in ("notes", "files", "kv"))
    with db:
        for n in range(max(1, round(total * percent / 200))):
            notes.add()
            if n % 40 == 0:
                notes.add_file()


def update(db, percent, rng):
    """Workload B: PERCENT% of the notes, chosen at random, get a new body (the triggers rewrite their FTS5 entries)."""
    ids = [r[0] for r in db.execute("SELECT id FROM notes")]
    with db:
        for note in rng.sample(ids, max(1, len(ids) * percent // 100)):
            db.execute("UPDATE notes SET body = ?, updated_at = ? WHERE id = ?",
                       (text(rng, rng.randint(20, 200)), CLOCK + len(ids) + note, note))

import Foundation
import Testing
@testable import BackupKit

/// The restore's integrity check split over connections must reach the verdict of one whole
/// `PRAGMA integrity_check`: damage only the per-table checks see (an index whose content is not
/// its table's) and damage only quick_check sees (a page no b-tree or free list holds).
struct IntegrityCheckTests {
    /// A database with a few shapes of table: rowid with indexes (one UNIQUE), WITHOUT ROWID, FTS5, blobs.
    static func makeSound(_ path: String, pageSize: Int = 4096) throws {
        let db = try SQLiteConnection(path: path, mode: .readWriteCreate)
        try db.execute("""
            PRAGMA page_size = \(pageSize);
            CREATE TABLE t(a INTEGER, b TEXT, c BLOB); CREATE INDEX t_a ON t(a); CREATE INDEX t_b ON t(b);
            CREATE TABLE u(x TEXT UNIQUE);
            CREATE TABLE w(k TEXT PRIMARY KEY, v INTEGER) WITHOUT ROWID;
            CREATE VIRTUAL TABLE f USING fts5(body);
            CREATE TABLE "it's odd"(x INTEGER); CREATE INDEX "it's odd x" ON "it's odd"(x);
            """)
        try db.execute("BEGIN")
        for i in 0..<3000 {
            _ = try db.run("INSERT INTO t VALUES (?, ?, randomblob(?))", [.integer(Int64(i % 97)), .text("row \(i)"), .integer(Int64(i % 5 == 0 ? 5000 : 40))])
            _ = try db.run("INSERT INTO w VALUES (?, ?)", [.text("key \(i)"), .integer(Int64(i))])
            _ = try db.run("INSERT INTO f VALUES (?)", [.text("lorem ipsum \(i) dolor")])
            _ = try db.run("INSERT INTO u VALUES (?)", [.text("unique \(i)")])
            _ = try db.run("INSERT INTO \"it's odd\" VALUES (?)", [.integer(Int64(i))])
        }
        try db.execute("COMMIT")
    }

    static func whole(_ path: String, quick: Bool) throws -> String? {
        try SQLiteConnection(path: path, mode: .immutable).integrityProblems(quick: quick)
    }

    /// The split check's verdict on two connections, every way a large table can be checked:
    /// by digests (`splitRows` 0), the table side in SQL (with no page map it can use, as for a
    /// database past the map's cap: quick_check whole) or, with a page map (as a full restore
    /// notes one), from the leaves; and as integrity_check(T) (every table below `splitRows`, the
    /// page map read from the file as for an incremental restore).
    static func split(_ path: String) throws -> [(splitRows: String, problems: String?)] {
        try ways(path).map { ($0.0, try $0.1.problems()) }
    }

    static func ways(_ path: String) throws -> [(String, IntegrityCheck)] {
        [("0, no usable page map", IntegrityCheck(path: path, pages: PageMap(limit: 0), workers: 2, splitRows: 0)),
         ("1000000", IntegrityCheck(path: path, workers: 2, splitRows: 1_000_000)),
         ("0, page map", IntegrityCheck(path: path, pages: try PageMap(reading: path), workers: 2, splitRows: 0))]
    }

    /// The whole check's verdict and the split check's both ways, where a check that stops on
    /// SQLITE_CORRUPT counts as a problem (it fails the restore as a listed problem does).
    static func verdicts(_ path: String) throws -> (whole: String?, split: [(splitRows: String, problems: String?)]) {
        func verdict(_ check: () throws -> String?) -> String? {
            do { return try check() } catch { return "stopped: \(error)" }
        }
        return (verdict { try whole(path, quick: false) },
                try ways(path).map { way in (way.0, verdict { try way.1.problems() }) })
    }

    @Test("a sound database passes, split over 1, 2 and 8 connections, as one whole check says")
    func soundDatabase() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("sound.db")
        try Self.makeSound(path)
        #expect(try Self.whole(path, quick: false) == nil)
        for workers in [1, 2, 8] {
            #expect(try IntegrityCheck(path: path, workers: workers).problems() == nil, "\(workers) workers")
            #expect(try IntegrityCheck(path: path, workers: workers, splitRows: 0).problems() == nil, "\(workers) workers, digests")
        }
    }

    @Test("the plan: no piece for a table without indexes, digests for a rowid table's plain indexes, integrity_check(T) for the rest")
    func planShapes() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("shapes.db")
        try Self.makeSound(path)
        do {
            let db = try SQLiteConnection(path: path, mode: .readWrite)
            try db.execute("""
                CREATE TABLE plain(x INTEGER, y TEXT);
                CREATE TABLE expr(x INTEGER, y TEXT); CREATE INDEX expr_lower ON expr(lower(y));
                CREATE TABLE part(x INTEGER); CREATE INDEX part_x ON part(x) WHERE x > 10;
                CREATE TABLE gen(x INTEGER, y INTEGER AS (x * 2)); CREATE INDEX gen_x ON gen(x);
                CREATE TABLE shadow(rowid TEXT, _rowid_ TEXT, oid TEXT, x INTEGER); CREATE INDEX shadow_x ON shadow(x);
                CREATE TABLE named(rowid TEXT, x INTEGER); CREATE INDEX named_x ON named(x);
                CREATE TABLE nocase(x TEXT COLLATE NOCASE, y BLOB); CREATE INDEX nocase_xy ON nocase(x, y DESC);
                CREATE TABLE real(x INTEGER, y DOUBLE PRECISION); CREATE INDEX real_x ON real(x); CREATE INDEX real_y ON real(y);
                CREATE TABLE "café"(x INTEGER); CREATE INDEX "café x" ON "café"(x);
                CREATE TABLE accent(x REAL\u{0301}); CREATE INDEX accent_x ON accent(x);
                CREATE TABLE descending(x INTEGER); CREATE INDEX descending_x ON descending(x DESC);
                INSERT INTO plain VALUES (1, 'a'); INSERT INTO expr VALUES (1, 'A'); INSERT INTO part VALUES (11);
                INSERT INTO gen(x) VALUES (1); INSERT INTO shadow VALUES ('a', 'b', 'c', 1); INSERT INTO named VALUES ('z', 1), ('y', 2); INSERT INTO nocase VALUES ('Ab', x'00');
                INSERT INTO real VALUES (1, 2.5); INSERT INTO "café" VALUES (1); INSERT INTO accent VALUES (1);
                INSERT INTO descending VALUES (1), (2);
                """)
        }
        let connection = try SQLiteConnection(path: path, mode: .immutable)
        try EntryDigest.register(on: connection, key: Array(repeating: 7, count: 32))
        let plan = try IntegrityCheck(path: path, workers: 2, splitRows: 0).plan(connection)
        let tasks = plan.tasks
        func pieces(_ table: String) -> [String] { tasks.map(\.sql).filter { $0.contains("\"\(table)\"") || $0.contains("'\(table)'") } }
        #expect(tasks.filter { $0.sql == "PRAGMA quick_check" }.count == 1)
        #expect(pieces("plain").isEmpty, "quick_check checks a table without indexes whole")
        #expect(pieces("f").isEmpty && pieces("f_data").isEmpty, "nor FTS5's rowid shadow tables (no indexes)")
        for table in ["expr", "part", "gen", "shadow", "w", "f_idx", "nocase", "real", "café", "accent", "descending"] {
            #expect(pieces(table) == ["PRAGMA main.integrity_check('\(table)')"], "\(table): \(pieces(table))")
        }
        for table in ["t", "it's odd", "u", "named"] {
            #expect(pieces(table).contains { $0.hasPrefix("SELECT \(EntryDigest.function)(") }
                    && pieces(table).allSatisfy { $0.hasPrefix("SELECT \(EntryDigest.function)(") || $0.hasPrefix("EXPLAIN SELECT 1 FROM ") },
                    "\(table): \(pieces(table))")
        }
        let indexes = tasks.compactMap { task -> (String, Bool)? in
            if case .index(_, _, let index) = task.reading { return (index.name, index.unique) }
            return nil
        }
        #expect(Set(indexes.map(\.0)) == ["t_a", "t_b", "it's odd x", "sqlite_autoindex_u_1", "named_x"], "\(indexes)")
        #expect(indexes.filter(\.1).map(\.0) == ["sqlite_autoindex_u_1"], "a UNIQUE index's keys are checked unique")
        #expect(plan.compared.map(\.table).sorted() == ["it's odd", "named", "t", "u"])
        #expect(pieces("named").contains { $0.contains("o._rowid_ BETWEEN") }, "a column took the name rowid")
        #expect(try IntegrityCheck(path: path, workers: 2, splitRows: 0).problems() == nil)
        #expect(try Self.whole(path, quick: false) == nil)
    }

    @Test("rowid ranges cover the span exactly once, at the extremes of 64 bits too")
    func rowidRanges() {
        for (span, count) in [(1...1, 4), (Int64(-5)...5, 3), (Int64(0)...999_999, 8), (Int64.min...Int64.max, 8), (Int64.max - 3...Int64.max, 8), (Int64.min...Int64.min + 2, 5)] as [(ClosedRange<Int64>, Int)] {
            let ranges = IntegrityCheck.ranges(span, count: count)
            #expect(ranges.first?.lowerBound == span.lowerBound && ranges.last?.upperBound == span.upperBound, "\(span)")
            #expect(zip(ranges, ranges.dropFirst()).allSatisfy { $0.upperBound &+ 1 == $1.lowerBound && $0.upperBound < $1.lowerBound }, "\(span): \(ranges)")
            #expect(ranges.count <= count)
        }
    }

    /// Points index `index` of `table` at the empty table `side` in the schema while `body`
    /// writes to `table` (so the index misses those writes), then points it back.
    static func writeBehindIndex(_ path: String, index: String, table: String = "t", columns: String, _ body: (SQLiteConnection) throws -> Void) throws {
        func repoint(_ table: String) throws {
            let db = try SQLiteConnection(path: path, mode: .readWrite)
            try db.execute("CREATE TABLE IF NOT EXISTS side(a INTEGER, b TEXT, c BLOB); PRAGMA writable_schema = ON")
            // Last in the schema, so SQLite reads `side` before an index on it.
            _ = try db.run("UPDATE sqlite_schema SET tbl_name = ?1, sql = ?2, rowid = (SELECT max(rowid) + 1 FROM sqlite_schema) WHERE name = ?3",
                           [.text(table), .text("CREATE INDEX \(index) ON \"\(table)\"(\(columns))"), .text(index)])
        }
        try repoint("side")
        try body(SQLiteConnection(path: path, mode: .readWrite))
        try repoint(table)
    }

    @Test("index entries missing, left over or repeated in a UNIQUE index: the split check fails like the whole one, as queries and as integrity_check(T)",
          arguments: ["missing", "missing with a NULL key", "left over", "repeated"])
    func indexEntries(damage: String) throws {
        let dir = TemporaryDirectory()
        let path = dir.file("entries.db")
        try Self.makeSound(path)
        let expected: String
        switch damage {
        case "missing":
            try Self.writeBehindIndex(path, index: "t_a", columns: "a") { _ = try $0.run("INSERT INTO t VALUES (5, 'new row', x'00')") }
            expected = "missing from index t_a"
        case "missing with a NULL key":
            try Self.writeBehindIndex(path, index: "t_a", columns: "a") { _ = try $0.run("INSERT INTO t VALUES (NULL, 'new row', x'00')") }
            expected = "missing from index t_a"
        case "left over":
            try Self.writeBehindIndex(path, index: "t_a", columns: "a") { _ = try $0.run("DELETE FROM t WHERE rowid = 17") }
            expected = "wrong # of entries in index t_a"
        default:
            let db = try SQLiteConnection(path: path, mode: .readWrite)
            try db.execute("PRAGMA writable_schema = ON")
            _ = try db.run("UPDATE sqlite_schema SET sql = 'CREATE UNIQUE INDEX t_a ON t(a)' WHERE name = 't_a'")
            expected = "non-unique entry in index t_a"
        }
        #expect(try Self.whole(path, quick: true) == nil, "quick_check does not read index content")
        let whole = try #require(try Self.whole(path, quick: false))
        #expect(whole.contains(expected), "\(whole)")
        for (splitRows, problems) in try Self.split(path) {
            let split = try #require(problems, "splitRows \(splitRows)")
            #expect(split.contains(expected), "splitRows \(splitRows): \(split) (whole check: \(whole))")
        }
    }

    /// Two tables of 100 rows whose indexes trade b-trees (the whole check finds every row
    /// missing), then `edit` rewrites the schema rows.
    static func swappedIndexes(_ path: String, edit: String) throws {
        let db = try SQLiteConnection(path: path, mode: .readWriteCreate)
        try db.execute("""
            CREATE TABLE t(a INTEGER); CREATE INDEX t_a ON t(a); CREATE TABLE u(a INTEGER); CREATE INDEX u_a ON u(a);
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100) INSERT INTO t SELECT i FROM n;
            INSERT INTO u SELECT a + 7 FROM t;
            CREATE TEMP TABLE roots AS SELECT name, rootpage FROM sqlite_schema WHERE name IN ('t_a', 'u_a');
            PRAGMA writable_schema = ON;
            UPDATE sqlite_master SET rootpage = (SELECT rootpage FROM roots WHERE roots.name <> sqlite_master.name) WHERE name IN ('t_a', 'u_a');
            \(edit)
            """)
    }

    @Test("schema rows SQLite reads loosely (a type in capitals, a name that is not UTF-8) still have every table checked",
          arguments: ["UPDATE sqlite_schema SET type = 'TABLE' WHERE type = 'table'",
                      "UPDATE sqlite_schema SET name = CAST(name || X'FF' AS TEXT), tbl_name = CAST(name || X'FF' AS TEXT), sql = CAST('CREATE TABLE \"' || name || X'FF' || '\"(a INTEGER)' AS TEXT) WHERE type = 'table';"
                      + " UPDATE sqlite_schema SET tbl_name = CAST(tbl_name || X'FF' AS TEXT), sql = CAST('CREATE INDEX ' || name || ' ON \"' || tbl_name || X'FF' || '\"(a)' AS TEXT) WHERE type = 'index'"])
    func looseSchemaRows(edit: String) throws {
        let dir = TemporaryDirectory()
        let path = dir.file("loose.db")
        try Self.swappedIndexes(path, edit: edit)
        let whole = try #require(try Self.whole(path, quick: false))
        #expect(whole.contains("missing from index"), "\(whole)")
        #expect(try Self.whole(path, quick: true) == nil)
        for (splitRows, problems) in try Self.split(path) {
            #expect(problems != nil, "splitRows \(splitRows) (whole check: \(whole))")
        }
    }

    @Test("a REAL column holding integers past 2^53 (read back rounded): the split check agrees with the whole one both ways",
          arguments: [true, false], ["REAL", "REAL\u{0301}"])
    func realColumnPast53Bits(damaged: Bool, type: String) throws {
        let dir = TemporaryDirectory()
        let path = dir.file("real.db")
        let db = try SQLiteConnection(path: path, mode: .readWriteCreate)
        if damaged {
            // The table's b-tree swapped for one whose values are each one more than its index's:
            // rounded to doubles, each would find its neighbour's entry.
            try db.execute("""
                CREATE TABLE t(b); CREATE INDEX t_b ON t(b); CREATE TABLE s(b);
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100)
                    INSERT INTO t(rowid, b) SELECT i, 9007199254740992 + 4 * i FROM n;
                INSERT INTO s(rowid, b) SELECT rowid, b + 1 FROM t;
                CREATE TEMP TABLE roots AS SELECT name, rootpage FROM sqlite_schema WHERE name IN ('t', 's');
                PRAGMA writable_schema = ON;
                UPDATE sqlite_master SET rootpage = (SELECT rootpage FROM roots WHERE roots.name <> sqlite_master.name) WHERE name IN ('t', 's');
                UPDATE sqlite_schema SET sql = 'CREATE TABLE t(b \(type))' WHERE name = 't';
                """)
        } else {
            try db.execute("""
                CREATE TABLE t(b INTEGER); CREATE INDEX t_b ON t(b);
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100)
                    INSERT INTO t(rowid, b) SELECT i, 9007199254740992 + 4 * i + 1 FROM n;
                PRAGMA writable_schema = ON;
                UPDATE sqlite_schema SET sql = 'CREATE TABLE t(b \(type))' WHERE name = 't';
                """)
        }
        db.close()
        let whole = try Self.whole(path, quick: false)
        #expect((whole != nil) == damaged, "\(whole ?? "ok")")
        for (splitRows, split) in try Self.split(path) {
            #expect((split != nil) == damaged, "splitRows \(splitRows): \(split ?? "ok") (whole check: \(whole ?? "ok"))")
        }
    }

    @Test("a damaged table whose name is not UTF-8, beside a sound one named as Swift repairs that name: the damaged one is still checked")
    func repairedNameCollision() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("names.db")
        do {
            let db = try SQLiteConnection(path: path, mode: .readWriteCreate)
            try db.execute("""
                CREATE TABLE "x?"(a INTEGER); CREATE INDEX ai ON "x?"(a);
                CREATE TABLE "x\u{FFFD}"(a INTEGER); CREATE INDEX bi ON "x\u{FFFD}"(a);
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100) INSERT INTO "x?" SELECT i FROM n;
                INSERT INTO "x\u{FFFD}" SELECT a FROM "x?";
                """)
        }
        try Self.writeBehindIndex(path, index: "ai", table: "x?", columns: "a") { _ = try $0.run("INSERT INTO \"x?\" VALUES (101)") }
        do {
            let db = try SQLiteConnection(path: path, mode: .readWrite)
            try db.execute("""
                PRAGMA writable_schema = ON;
                UPDATE sqlite_schema SET name = CAST(X'78FF' AS TEXT), tbl_name = CAST(X'78FF' AS TEXT),
                    sql = CAST('CREATE TABLE "' || X'78FF' || '"(a INTEGER)' AS TEXT) WHERE name = 'x?';
                UPDATE sqlite_schema SET tbl_name = CAST(X'78FF' AS TEXT), sql = CAST('CREATE INDEX ai ON "' || X'78FF' || '"(a)' AS TEXT) WHERE name = 'ai';
                """)
        }
        let whole = try #require(try Self.whole(path, quick: false))
        #expect(whole.contains("missing from index ai"), "\(whole)")
        for (splitRows, problems) in try Self.split(path) {
            #expect(problems != nil, "splitRows \(splitRows) (whole check: \(whole))")
        }
    }

    @Test("an index whose content is not its table's: quick_check misses it, the split check fails like the whole one")
    func indexContentMismatch() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("index.db")
        try Self.makeSound(path)
        do {
            let db = try SQLiteConnection(path: path, mode: .readWrite)
            try db.execute("PRAGMA writable_schema = ON")
            _ = try db.run("UPDATE sqlite_schema SET sql = 'CREATE INDEX t_a ON t(c)' WHERE name = 't_a'")
        }
        #expect(try Self.whole(path, quick: true) == nil, "quick_check does not read index content")
        let whole = try #require(try Self.whole(path, quick: false))
        for (splitRows, problems) in try Self.split(path) {
            let split = try #require(problems)
            #expect(split.contains("t_a"), "splitRows \(splitRows): \(split) (whole check: \(whole))")
        }
    }

    @Test("a page no b-tree or free list holds: only the whole-file part sees it, and the split check fails like the whole one")
    func pageNeverUsed() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("pages.db")
        try Self.makeSound(path)
        do {
            let db = try SQLiteConnection(path: path, mode: .readWrite)
            _ = try db.run("DELETE FROM t WHERE rowid % 2 = 0")
        }
        // Forget the free list in the header (first trunk page and count): its pages are now used by nothing.
        let file = try #require(FileHandle(forUpdatingAtPath: path))
        try file.seek(toOffset: 36)
        let count = try #require(try file.read(upToCount: 4)).reduce(0) { $0 << 8 | Int($1) }
        #expect(count > 0, "the delete left free pages")
        try file.seek(toOffset: 32)
        file.write(Data(repeating: 0, count: 8))
        try file.close()
        #expect(try IntegrityCheck(path: path, workers: 1).problems() != nil)
        let split = try #require(try IntegrityCheck(path: path, workers: 2).problems())
        #expect(split.contains("never used"), "\(split)")
        #expect(try Self.whole(path, quick: false) != nil)
    }

    @Test("an index built under NOCASE and declared BINARY: every entry is there, out of order, so seeks miss some; the split check fails like the whole one")
    func indexOutOfOrder() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("order.db")
        do {
            let db = try SQLiteConnection(path: path, mode: .readWriteCreate)
            try db.execute("""
                CREATE TABLE t(a TEXT); CREATE INDEX t_a ON t(a COLLATE NOCASE);
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
                    INSERT INTO t SELECT CASE WHEN i % 2 THEN 'k' ELSE 'K' END || printf('%05d', (i * 7919) % 2000) FROM n;
                PRAGMA writable_schema = ON;
                UPDATE sqlite_schema SET sql = 'CREATE INDEX t_a ON t(a)' WHERE name = 't_a';
                """)
        }
        #expect(try Self.whole(path, quick: true) == nil, "quick_check does not read index order")
        let whole = try #require(try Self.whole(path, quick: false))
        #expect(whole.contains("missing from index t_a"), "\(whole)")
        // The entries themselves are all there: only their order tells.
        let db = try SQLiteConnection(path: path, mode: .immutable)
        try EntryDigest.register(on: db, key: Array(repeating: 1, count: 32))
        let table = try #require(EntryDigest(try db.query("SELECT \(EntryDigest.function)(a, rowid) FROM t NOT INDEXED")[0][0]))
        let index = try Self.records(path, index: "t_a", keys: 1).digest
        #expect(table.rows == 2000 && table.hashed == 2000 && (table.high, table.low) == (index.high, index.low) && index.rows == 2000)
        #expect(index.disordered && !table.disordered)
        for (splitRows, problems) in try Self.split(path) {
            let split = try #require(problems, "splitRows \(splitRows)")
            #expect(split.contains("missing from index t_a"), "splitRows \(splitRows): \(split) (whole check: \(whole))")
        }
    }

    /// Index `index`'s records as `IndexPages` reads them, digested under key 1…1, and their payloads.
    static func records(_ path: String, index: String, keys: Int, unique: Bool = false) throws -> (digest: EntryDigest, records: [[UInt8]], walk: IndexPages.Walk) {
        let db = try SQLiteConnection(path: path, mode: .immutable)
        let counted = try #require(try db.query(IndexContentCheck.size, [.text(index)]).first)
        #expect(counted.count == 5 && counted[0].integer == 1, "one b-tree of that name")
        let root = try #require(counted[1].integer)
        var digest = IndexRecordDigest(keys: keys, unique: unique, key: Array(repeating: 1, count: 32))
        var records: [[UInt8]] = []
        let walk = try IndexPages(path: path).walk(root: root) { record in
            digest.add(record: record)
            records.append(Array(record))
        }
        #expect([walk.cells, walk.payload, walk.pages] == counted[2...].map { $0.integer ?? -1 }, "the pages read are the b-tree SQLite counts")
        return (digest.digest, records, walk)
    }

    @Test("records in SQLite's own order (numbers by value across integer and real, past 2^53 too, then text, then blobs) read as ordered, reversed as not")
    func recordOrderIsSQLites() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("order.db")
        let db = try SQLiteConnection(path: path, mode: .readWriteCreate)
        try db.execute("""
            CREATE TABLE v(x, n INTEGER PRIMARY KEY); CREATE INDEX v_x ON v(x);
            INSERT INTO v VALUES (9007199254740993, 1), (9007199254740992.0, 2), (9007199254740992, 3), (-0.0, 4), (0, 5), (0.5, 6),
                (-9223372036854775808, 7), (-1e300, 8), (1e300, 9), (9223372036854775807, 10), (9223372036854775808.0, 11),
                ('', 12), ('a', 13), ('ab', 14), ('b', 15), ('a' || char(0) || 'b', 16), (x'', 17), (x'00', 18), (x'0001', 19), (x'ff', 20),
                (2, 21), (2.0, 22), (1.9999999999999998, 23), ('B', 24), ('a', 25), (1, 26), (-1, 27), (300, 28), (-70000, 29), (1 << 40, 30);
            """)
        func digest(_ records: [[UInt8]], unique: Bool = false) -> EntryDigest {
            var digest = IndexRecordDigest(keys: 1, unique: unique, key: Array(repeating: 1, count: 32))
            for record in records { record.withUnsafeBytes { digest.add(record: $0) } }
            return digest.digest
        }
        let stored = try Self.records(path, index: "v_x", keys: 1).records
        #expect(stored.count == 30 && digest(stored).plain, "every record plain and in order")
        #expect(digest(stored.reversed()).disordered)
        #expect(digest(stored, unique: true).disordered, "equal values (2 and 2.0, 0 and -0.0, 'a' twice) share a key")
        try db.execute("DELETE FROM v WHERE n IN (2, 4, 22, 25)")
        db.close()
        #expect(digest(try Self.records(path, index: "v_x", keys: 1).records, unique: true).plain)
        #expect(IndexRecordDigest.compare(Int64(1) << 53 + 1, Double(UInt64(1) << 53)) == 1)
        #expect(IndexRecordDigest.compare(Int64.max, 9223372036854775808.0) == -1)
        #expect(IndexRecordDigest.compare(Int64.min, -9223372036854775808.0) == 0)
    }

    @Test("index records read from the pages on 512- and 65536-byte pages, spilling to overflow pages: SQLite's count of the b-tree, the table's digest",
          arguments: [512, 65536])
    func recordsFromPages(pageSize: Int) throws {
        let dir = TemporaryDirectory()
        let path = dir.file("pages.db")
        do {
            let db = try SQLiteConnection(path: path, mode: .readWriteCreate)
            try db.execute("""
                PRAGMA page_size = \(pageSize); CREATE TABLE t(a TEXT, b INTEGER); CREATE INDEX t_ab ON t(a, b);
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
                    INSERT INTO t SELECT printf('%06d', i) || CASE WHEN i % 50 = 0 THEN hex(randomblob(i % 7 * 20000)) ELSE '' END, i * 1000003 FROM n;
                """)
        }
        let db = try SQLiteConnection(path: path, mode: .immutable)
        #expect(try db.query("PRAGMA page_size").first?.first?.integer == Int64(pageSize))
        try EntryDigest.register(on: db, key: Array(repeating: 1, count: 32))
        let table = try #require(EntryDigest(try db.query("SELECT \(EntryDigest.function)(a, b, rowid) FROM t")[0][0]))
        let (index, _, walk) = try Self.records(path, index: "t_ab", keys: 2)
        #expect(walk.cells == 3000 && walk.pages > 1)
        #expect(index == table && index.plain, "the records the pages hold are the rows'")
        #expect(try IntegrityCheck(path: path, workers: 2, splitRows: 0).problems() == nil)
    }

    @Test("an index record whose header names a field more than its body holds (its rowid overlaps its key; read back, it looks right): the split check fails like the whole one")
    func recordFieldsOverlap() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("overlap.db")
        let pageSize: Int
        let leaves: Set<Int64>
        do {
            let db = try SQLiteConnection(path: path, mode: .readWriteCreate)
            try db.execute("""
                CREATE TABLE t(a INTEGER); CREATE INDEX t_a ON t(a);
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000) INSERT INTO t(rowid, a) SELECT i, i + 256 FROM n;
                """)
            pageSize = Int(try #require(try db.query("PRAGMA page_size").first?.first?.integer))
            leaves = Set(try db.query("SELECT pageno FROM dbstat WHERE name = 't_a' AND pagetype = 'leaf'").compactMap { $0.first?.integer })
        }
        // The cell of (261, rowid 5): payload 6, header (int16, int8), body 01 05 05. Its new header
        // names int16, NULL, int8 over the body 01 05: the key still reads 261, the rowid 5.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let cell = Data([0x06, 0x03, 0x02, 0x01, 0x01, 0x05, 0x05])
        var found: [Range<Data.Index>] = []
        var from = bytes.startIndex
        while let range = bytes.range(of: cell, in: from..<bytes.endIndex) {
            if leaves.contains(Int64(range.lowerBound / pageSize + 1)) { found.append(range) }
            from = range.upperBound
        }
        #expect(found.count == 1)
        bytes.replaceSubrange(try #require(found.first), with: Data([0x06, 0x04, 0x02, 0x00, 0x01, 0x01, 0x05]))
        try bytes.write(to: URL(fileURLWithPath: path))
        let read = try SQLiteConnection(path: path, mode: .immutable).query("SELECT a, rowid FROM t INDEXED BY t_a WHERE a = 261")
        #expect(read == [[.integer(261), .integer(5)]], "read back through SQL, the entry looks right")
        #expect(try Self.whole(path, quick: true) == nil)
        let whole = try #require(try Self.whole(path, quick: false))
        #expect(whole.contains("row 5 missing from index t_a"), "\(whole)")
        for (splitRows, problems) in try Self.split(path) {
            let split = try #require(problems, "splitRows \(splitRows): ok, but the whole check says \(whole)")
            #expect(split.contains("row 5 missing from index t_a"), "splitRows \(splitRows): \(split)")
        }
    }

    @Test("NULL keys (several in a UNIQUE index) and NaNs written into records: integrity_check(T) decides, and the split check agrees with the whole one",
          arguments: ["sound", "NaN in table and index", "NaN in the index only"])
    func nullsAndNaNs(_ damage: String) throws {
        let dir = TemporaryDirectory()
        let path = dir.file("nan.db")
        do {
            let db = try SQLiteConnection(path: path, mode: .readWriteCreate)
            try db.execute("""
                CREATE TABLE t(a BLOB, b TEXT); CREATE UNIQUE INDEX t_a ON t(a); CREATE INDEX t_b ON t(b);
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100)
                    INSERT INTO t SELECT CASE WHEN i % 10 = 0 THEN NULL WHEN i = 37 THEN 1234.5678 ELSE i END, CASE WHEN i % 7 = 0 THEN NULL ELSE 'b' || i END FROM n;
                """)
        }
        if damage != "sound" {
            var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            let value = withUnsafeBytes(of: (1234.5678).bitPattern.bigEndian) { Data($0) }
            let nan = withUnsafeBytes(of: UInt64(0x7FF8_0000_0000_0001).bigEndian) { Data($0) }
            let indexPage = try #require(try SQLiteConnection(path: path, mode: .readOnly).query("SELECT rootpage FROM sqlite_schema WHERE name = 't_a'").first?.first?.integer)
            var replaced = 0
            var from = bytes.startIndex
            while let found = bytes.range(of: value, in: from..<bytes.endIndex) {
                let inIndex = (Int64(found.lowerBound) / 4096 + 1) == indexPage
                if damage == "NaN in table and index" || inIndex {
                    bytes.replaceSubrange(found, with: nan)
                    replaced += 1
                }
                from = found.upperBound
            }
            #expect(replaced == (damage == "NaN in table and index" ? 2 : 1))
            try bytes.write(to: URL(fileURLWithPath: path))
        }
        let whole = try Self.whole(path, quick: false)
        if damage == "sound" { #expect(whole == nil) }
        for (splitRows, split) in try Self.split(path) {
            #expect(split == whole, "splitRows \(splitRows): \(split ?? "ok") (whole check: \(whole ?? "ok"))")
        }
    }

    @Test("index records with a field more than the schema says (read back, they look right) or one short: the split check agrees with the whole one",
          arguments: ["a field more", "a field more, UNIQUE", "a field short"])
    func recordFieldCount(_ shape: String) throws {
        let dir = TemporaryDirectory()
        let path = dir.file("fields.db")
        let (built, declared, b) = switch shape {
        case "a field more": ("CREATE INDEX t_a ON t(a, b)", "CREATE INDEX t_a ON t(a)", "'x'")
        case "a field more, UNIQUE": ("CREATE UNIQUE INDEX t_a ON t(a, b)", "CREATE UNIQUE INDEX t_a ON t(a)", "-i")
        default: ("CREATE INDEX t_a ON t(a)", "CREATE INDEX t_a ON t(a, b)", "i")
        }
        do {
            let db = try SQLiteConnection(path: path, mode: .readWriteCreate)
            try db.execute("""
                CREATE TABLE t(a INTEGER, b); \(built);
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
                    INSERT INTO t(rowid, a, b) SELECT i, \(shape.contains("UNIQUE") ? "i + 100000" : "i % 100 + 100000"), \(b) FROM n;
                PRAGMA writable_schema = ON;
                UPDATE sqlite_schema SET sql = '\(declared)' WHERE name = 't_a';
                """)
        }
        #expect(try Self.whole(path, quick: true) == nil, "quick_check does not read index records")
        // (No key equals its rowid, which would leave the table to integrity_check(T) by itself.)
        let (whole, split) = try Self.verdicts(path)
        #expect(whole != nil, "every shape here is damage the whole check sees")
        if shape != "a field short" { #expect(whole?.contains("missing from index t_a") == true, "\(whole ?? "ok")") }
        for (splitRows, problems) in split {
            #expect(problems != nil, "splitRows \(splitRows): ok, but the whole check says \(whole ?? "ok")")
        }
    }

    @Test("index b-trees written otherwise than SQLite writes them (padded varints, a 9-byte payload size, an empty leaf, a trigger named as the index, a table named as temp's schema): the split check fails like the whole one",
          arguments: ["padded-rowid-type", "padded-header-size", "padded-key-type", "long-payload-size", "trigger-named-as-index", "empty-leaf-page",
                      "table-named-sqlite_temp_master"])
    func recordsNotAsSQLiteWrites(_ mode: String) throws {
        let dir = TemporaryDirectory()
        let path = dir.file("crafted.db")
        let made = try Tool.python("crafted_index.py", [mode, path], in: dir.path)
        #expect(made.status == 0, "\(made.output)")
        #expect(try Self.whole(path, quick: true) == nil, "quick_check passes it")
        let (whole, split) = try Self.verdicts(path)
        let problems = try #require(whole, "every shape here is damage the whole check sees")
        for (splitRows, found) in split {
            #expect(found != nil, "splitRows \(splitRows): ok, but the whole check says \(problems)")
        }
    }
}

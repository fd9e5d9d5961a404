import Foundation
import Testing
@testable import BackupKit

/// quick_check split into `quick_check(T)` per table plus the page accounting must reach the
/// verdict of one whole check, and hold where SQLite 3.40's whole check does not count pages
/// (its first listed root a view's 0).
struct PageAccountingTests {
    /// The map a writer notes when the file arrives `chunk` bytes at a time.
    static func map(_ path: String, chunk: Int) throws -> PageMap {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let map = PageMap()
        data.withUnsafeBytes { all in
            var at = 0
            while at < all.count {
                let n = min(chunk, all.count - at)
                map.add(UnsafeRawBufferPointer(rebasing: all[at..<(at + n)]))
                at += n
            }
        }
        return map
    }

    static func verdict(_ path: String, map: PageMap) throws -> PageAccounting.Verdict {
        let db = try SQLiteConnection(path: path, mode: .immutable)
        let roots = try #require(try IntegrityCheck.roots(of: "PRAGMA main.quick_check", on: db))
        let count = try #require(try db.query("PRAGMA page_count").first?.first?.integer)
        return try PageAccounting.verdict(map: map, roots: roots, pageCount: Int(count), path: path)
    }

    static func plan(_ path: String, map: PageMap?) throws -> IntegrityCheck.Plan {
        let db = try SQLiteConnection(path: path, mode: .immutable)
        try EntryDigest.register(on: db, key: Array(repeating: 3, count: 32))
        return try IntegrityCheck(path: path, pages: map, workers: 2, splitRows: 0).plan(db)
    }

    @Test("a sound database on 512-, 4096- and 65536-byte pages, with overflow chains and free pages: every page held once, whatever the chunks it was written in; quick_check splits per table",
          arguments: [512, 4096, 65536])
    func soundDatabaseSplits(pageSize: Int) throws {
        let dir = TemporaryDirectory()
        let path = dir.file("sound.db")
        try IntegrityCheckTests.makeSound(path, pageSize: pageSize)
        do {
            let db = try SQLiteConnection(path: path, mode: .readWrite)
            _ = try db.run("DELETE FROM t WHERE rowid < 1200")
            #expect(try db.query("PRAGMA freelist_count").first?.first?.integer ?? 0 > 0, "the delete left free pages")
        }
        let whole = try Self.verdict(path, map: try PageMap(reading: path))
        guard case .sound(let pages) = whole else {
            Issue.record("\(whole)")
            return
        }
        let count = try #require(try SQLiteConnection(path: path, mode: .immutable).query("PRAGMA page_count").first?.first?.integer)
        let free = try #require(try SQLiteConnection(path: path, mode: .immutable).query("PRAGMA freelist_count").first?.first?.integer)
        #expect(pages.values.reduce(0, +) + Int(free) == Int(count), "the b-trees and the free list hold every page")
        for chunk in [1, 99, 4097, 1 << 20] {
            #expect(try Self.verdict(path, map: try Self.map(path, chunk: chunk)) == whole, "chunks of \(chunk) bytes")
        }
        let inOneRead = try PageMap(reading: path, parts: 1)
        for parts in [2, 3, 7] {
            let stretches = try PageMap(reading: path, parts: parts, stretch: 1)
            #expect(try Self.verdict(path, map: stretches) == whole, "read in \(parts) stretches")
            #expect(stretches.pages == Int(count) && (1...Int(count)).allSatisfy {
                stretches.references($0) == inOneRead.references($0) && stretches.kind($0) == inOneRead.kind($0) && stretches.nextPage($0) == inOneRead.nextPage($0)
            }, "the stretches join as one read")
        }
        let plan = try Self.plan(path, map: try Self.map(path, chunk: 128 << 10))
        let sql = plan.tasks.map(\.sql)
        #expect(!sql.contains("PRAGMA quick_check"))
        #expect(sql.contains("PRAGMA main.quick_check('t')") && sql.contains("PRAGMA main.quick_check('sqlite_schema')"), "\(sql)")
        #expect(!sql.contains("PRAGMA main.quick_check('w')"), "integrity_check('w') covers it: \(sql)")
        #expect(try IntegrityCheck(path: path, pages: try PageMap(reading: path), workers: 2).problems() == nil)
        #expect(try IntegrityCheckTests.whole(path, quick: false) == nil)
    }

    @Test("a map that cannot describe the file (too many pages, a file that is not a database) leaves quick_check whole")
    func unusableMap() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("sound.db")
        try IntegrityCheckTests.makeSound(path)
        let small = try PageMap(reading: path, limit: 10)
        #expect(!small.usable)
        if case .undecided = try Self.verdict(path, map: small) {} else { Issue.record("a map cut short decided") }
        #expect(try Self.plan(path, map: small).tasks.map(\.sql).contains("PRAGMA quick_check"))
        let junk = PageMap()
        junk.add(UnsafeRawBufferPointer(start: Array(repeating: UInt8(7), count: 4096), count: 4096))
        #expect(!junk.usable)
        #expect(try IntegrityCheck(path: path, pages: small, workers: 2).problems() == nil)
    }

    @Test("a header whose incremental-vacuum field is set without auto-vacuum (only the whole check looks): the split check fails like the whole one")
    func incrementalVacuumField() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("vacuum.db")
        try IntegrityCheckTests.makeSound(path)
        let file = try #require(FileHandle(forUpdatingAtPath: path))
        try file.seek(toOffset: 67)
        file.write(Data([1]))
        try file.close()
        if case .undecided = try Self.verdict(path, map: try PageMap(reading: path)) {} else { Issue.record("the accounting decided") }
        let whole = try #require(try IntegrityCheckTests.whole(path, quick: false))
        for map in [try PageMap(reading: path), nil] {
            let split = try #require(try IntegrityCheck(path: path, pages: map, workers: 2).problems(), "map: \(map != nil); whole: \(whole)")
            #expect(split.contains("incremental_vacuum"), "\(split)")
        }
    }

    @Test("a page whose every cell pointer names one spilling cell: the map stops at its budget of references instead of growing with them")
    func referenceBudget() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("sound.db")
        try IntegrityCheckTests.makeSound(path)
        var first = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)).prefix(4096))
        #expect(first[16] == 0x10 && first[17] == 0, "4096-byte pages")
        first[100] = 0x0A  // page 1 an index leaf without cells: nothing to note
        first[103] = 0
        first[104] = 0
        // An index leaf of 1,000 cell pointers, all to one cell claiming 100,000 bytes of payload.
        var page = [UInt8](repeating: 0, count: 4096)
        page[0] = 0x0A
        (page[3], page[4]) = (UInt8(1000 >> 8), UInt8(1000 & 0xFF))
        for n in 0..<1000 { (page[8 + 2 * n], page[9 + 2 * n]) = (0x08, 0x00) }
        (page[0x800], page[0x801], page[0x802]) = (0x86, 0x8D, 0x20)  // 100,000: 489 bytes here, then an overflow page
        let map = PageMap(limit: 1000)
        first.withUnsafeBytes { map.add($0) }
        #expect(map.usable && map.pages == 1)
        page.withUnsafeBytes { map.add($0) }
        #expect(!map.usable, "3,000 references on one page, past twice the limit of 1,000 pages")
        let roomy = PageMap(limit: 2000)
        first.withUnsafeBytes { roomy.add($0) }
        page.withUnsafeBytes { roomy.add($0) }
        #expect(roomy.usable && roomy.pages == 2 && roomy.references(2).count == 3000, "under the budget the page is noted as read")
    }

    @Test("two tables whose rows share one overflow chain: each quick_check(T) passes, the whole check does not, nor does the split one")
    func sharedOverflowChain() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("shared.db")
        do {
            let db = try SQLiteConnection(path: path, mode: .readWriteCreate)
            try db.execute("""
                CREATE TABLE a(x BLOB); CREATE TABLE b(x BLOB);
                INSERT INTO a VALUES (randomblob(20000)); INSERT INTO b VALUES (randomblob(20000));
                """)
        }
        // b's one cell now points at a's chain (as long as its own, which nothing holds any more).
        let a = try Self.overflowPointer(path, table: "a"), b = try Self.overflowPointer(path, table: "b")
        let file = try #require(FileHandle(forUpdatingAtPath: path))
        try file.seek(toOffset: UInt64(b.at))
        file.write(Data([UInt8(a.page >> 24 & 0xFF), UInt8(a.page >> 16 & 0xFF), UInt8(a.page >> 8 & 0xFF), UInt8(a.page & 0xFF)]))
        try file.close()
        let db = try SQLiteConnection(path: path, mode: .immutable)
        for table in ["a", "b"] {
            #expect(try db.query("PRAGMA quick_check('\(table)')").compactMap { $0.first?.text } == ["ok"], "quick_check(\(table))")
        }
        let whole = try #require(try IntegrityCheckTests.whole(path, quick: false))
        #expect(whole.contains("2nd reference"), "\(whole)")
        #expect(try Self.verdict(path, map: try PageMap(reading: path)) == .problem("2nd reference to page \(a.page)"))
        for map in [try PageMap(reading: path), nil] {
            let split = try #require(try IntegrityCheck(path: path, pages: map, workers: 2).problems())
            #expect(split.contains("2nd reference"), "\(split)")
        }
    }

    @Test("a database whose newest schema object is a view (SQLite 3.40 then skips its page count and free list): free pages nothing holds, or a free-list leaf naming a table's root; the split check fails, with a map and without",
          arguments: ["forgotten free list", "free list over a table"])
    func viewLastStillCounted(_ damage: String) throws {
        let dir = TemporaryDirectory()
        let path = dir.file("view.db")
        var root: Int64 = 0
        do {
            let db = try SQLiteConnection(path: path, mode: .readWriteCreate)
            try db.execute("""
                CREATE TABLE t(a INTEGER, b BLOB);
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000) INSERT INTO t SELECT i, randomblob(300) FROM n;
                CREATE TABLE u(x); INSERT INTO u VALUES (1);
                CREATE VIEW v AS SELECT a FROM t;
                DELETE FROM t WHERE a < 2000;
                """)
            #expect(try db.query("PRAGMA freelist_count").first?.first?.integer ?? 0 > 100)
            root = try #require(try db.query("SELECT rootpage FROM sqlite_schema WHERE name = 'u'").first?.first?.integer)
        }
        let file = try #require(FileHandle(forUpdatingAtPath: path))
        if damage == "forgotten free list" {
            // The header's first trunk page and count zeroed: the free pages are held by nothing.
            try file.seek(toOffset: 32)
            file.write(Data(repeating: 0, count: 8))
        } else {
            // The first trunk's first leaf now names u's root page, which SQLite would hand out again.
            try file.seek(toOffset: 32)
            let trunk = try #require(try file.read(upToCount: 4)).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            try file.seek(toOffset: (trunk - 1) * 4096 + 8)
            file.write(Data((0..<4).map { UInt8(truncatingIfNeeded: root >> (24 - 8 * $0)) }))
        }
        try file.close()
        let expected = damage == "forgotten free list" ? "never used" : "2nd reference to page \(root)"
        guard case .problem(let problem) = try Self.verdict(path, map: try PageMap(reading: path)) else {
            Issue.record("the accounting missed it")
            return
        }
        #expect(problem.contains(expected), "\(problem)")
        for map in [try PageMap(reading: path), nil] {
            let split = try #require(try IntegrityCheck(path: path, pages: map, workers: 2).problems(), "map: \(map != nil)")
            #expect(split.contains(expected), "\(split)")
        }
    }

    @Test("the table side read from the leaves equals SQL's, on 512-, 4096- and 65536-byte pages: rows spilling to overflow pages, NULL keys, a UNIQUE index; a TEXT PRIMARY KEY; records older than a key column, and a key that is the rowid's alias, are left to SQL or integrity_check(T)",
          arguments: [512, 4096, 65536])
    func tableRecordsMatchSQL(pageSize: Int) throws {
        let dir = TemporaryDirectory()
        let path = dir.file("records.db")
        try IntegrityCheckTests.makeSound(path, pageSize: pageSize)
        do {
            let db = try SQLiteConnection(path: path, mode: .readWrite)
            try db.execute("""
                CREATE TABLE older(a INTEGER, b TEXT);
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
                    INSERT INTO older SELECT i, CASE WHEN i % 7 = 0 THEN NULL ELSE 'b' || i END FROM n;
                ALTER TABLE older ADD COLUMN c INTEGER DEFAULT 7;
                INSERT INTO older VALUES (1, 'x', 2.5), (2, x'00ff', -9223372036854775808);
                CREATE INDEX older_b ON older(b); CREATE INDEX older_c ON older(c);
                CREATE TABLE alias(id INTEGER PRIMARY KEY, x INTEGER); CREATE INDEX alias_x ON alias(x, id);
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000) INSERT INTO alias SELECT i * 3, i % 11 FROM n;
                CREATE TABLE tk(k TEXT PRIMARY KEY, v BLOB);
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000) INSERT INTO tk SELECT 'k' || i, zeroblob(i % 50) FROM n;
                """)
        }
        let map = try PageMap(reading: path)
        let db = try SQLiteConnection(path: path, mode: .immutable)
        let key = Array(repeating: UInt8(9), count: 32)
        try EntryDigest.register(on: db, key: key)
        let plan = try IntegrityCheck(path: path, pages: map, workers: 2, splitRows: 0).plan(db)
        var fromLeaves: [String: [UInt32]] = [:]
        for task in plan.tasks {
            if case .tableRecords(let t, _, let leaves) = task.reading { fromLeaves[plan.compared[t].table, default: []] += leaves }
        }
        #expect(Set(fromLeaves.keys) == ["t", "u", "it's odd", "older", "tk"], "a TEXT PRIMARY KEY is a field: \(fromLeaves.keys.sorted())")
        for check in plan.compared where check.table != "alias" {
            let root = try #require(try IntegrityCheck.roots(of: IntegrityCheck.pragma(check.table, quick: true), on: db)?.first)
            let (records, leaves) = try #require(try IntegrityCheck.tableRecords(check, root: root, map: map, path: path, on: db))
            #expect(leaves.sorted() == (fromLeaves[check.table] ?? []).sorted(), "the tasks read every leaf once: \(check.table)")
            let read = try records.digests(leaves: leaves[...], key: key)
            let sql = "SELECT " + check.indexes.map { index in
                "\(EntryDigest.function)(" + (index.columns.map { "o.\(IndexContentCheck.quoted($0))" } + ["o.rowid"]).joined(separator: ", ") + ")"
            }.joined(separator: ", ") + " FROM main.\(IndexContentCheck.quoted(check.table)) AS o"
            let expected = try db.query(sql)[0].map { try #require(EntryDigest($0)) }
            #expect(expected.allSatisfy { $0.rows > 0 }, "\(check.table)")
            // The plan's tasks for the table, each its group of leaves or, where those cannot be read, its rowid range in SQL.
            var tasks = Array(repeating: EntryDigest(), count: check.indexes.count)
            for task in plan.tasks {
                guard case .tableRecords(let t, _, _) = task.reading, plan.compared[t].table == check.table else { continue }
                guard case .digests(let digests?) = try task.run(on: db, key: key) else {
                    Issue.record("a group of \(check.table) read nothing")
                    continue
                }
                for k in tasks.indices { tasks[k].add(digests[k]) }
            }
            #expect(tasks == expected, "\(check.table): the groups add up to the table")
            guard check.table != "older" else {
                #expect(read == nil, "older rows lack column c: SQL reads them")
                continue
            }
            #expect(read == expected, "\(check.table)")
        }
        #expect(try IntegrityCheckTests.whole(path, quick: false) == nil)
        #expect(try IntegrityCheck(path: path, pages: map, workers: 2, splitRows: 0).problems() == nil)
    }

    /// Where table `table`'s one row (on its root page, a leaf) keeps its overflow chain's first
    /// page number, and that number.
    static func overflowPointer(_ path: String, table: String) throws -> (at: Int, page: UInt32) {
        let db = try SQLiteConnection(path: path, mode: .immutable)
        let root = try #require(try db.query("SELECT rootpage FROM sqlite_schema WHERE name = ?1", [.text(table)]).first?.first?.integer)
        let usable = Int(try #require(try db.query("PRAGMA page_size").first?.first?.integer))
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let page = (Int(root) - 1) * usable
        #expect(bytes[page] == 0x0D && bytes[page + 3] == 0 && bytes[page + 4] == 1, "a leaf of one cell")
        let cell = page + (Int(bytes[page + 8]) << 8 | Int(bytes[page + 9]))
        var at = cell
        var payload = 0
        while true {
            payload = payload << 7 | Int(bytes[at] & 0x7F)
            at += 1
            if bytes[at - 1] & 0x80 == 0 { break }
        }
        while bytes[at] & 0x80 != 0 { at += 1 }  // the rowid
        at += 1
        let most = usable - 35, least = (usable - 12) * 32 / 255 - 23
        let surplus = least + (payload - least) % (usable - 4)
        #expect(payload > most, "the row spills")
        at += surplus <= most ? surplus : least
        let number = UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])
        return (at, number)
    }
}

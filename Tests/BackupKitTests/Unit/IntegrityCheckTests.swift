import Foundation
import Testing
@testable import BackupKit

/// The restore's integrity check split over connections must reach the verdict of one whole
/// `PRAGMA integrity_check`: damage only the per-table checks see (an index whose content is not
/// its table's) and damage only quick_check sees (a page no b-tree or free list holds).
struct IntegrityCheckTests {
    /// A database with a few shapes of table: rowid with indexes, WITHOUT ROWID, FTS5, blobs.
    static func makeSound(_ path: String) throws {
        let db = try SQLiteConnection(path: path, mode: .readWriteCreate)
        try db.execute("""
            CREATE TABLE t(a INTEGER, b TEXT, c BLOB); CREATE INDEX t_a ON t(a); CREATE UNIQUE INDEX t_b ON t(b);
            CREATE TABLE w(k TEXT PRIMARY KEY, v INTEGER) WITHOUT ROWID;
            CREATE VIRTUAL TABLE f USING fts5(body);
            CREATE TABLE "it's odd"(x INTEGER); CREATE INDEX "it's odd x" ON "it's odd"(x);
            """)
        try db.execute("BEGIN")
        for i in 0..<3000 {
            _ = try db.run("INSERT INTO t VALUES (?, ?, randomblob(?))", [.integer(Int64(i % 97)), .text("row \(i)"), .integer(Int64(i % 5 == 0 ? 5000 : 40))])
            _ = try db.run("INSERT INTO w VALUES (?, ?)", [.text("key \(i)"), .integer(Int64(i))])
            _ = try db.run("INSERT INTO f VALUES (?)", [.text("lorem ipsum \(i) dolor")])
            _ = try db.run("INSERT INTO \"it's odd\" VALUES (?)", [.integer(Int64(i))])
        }
        try db.execute("COMMIT")
    }

    static func whole(_ path: String, quick: Bool) throws -> String? {
        try SQLiteConnection(path: path, mode: .immutable).integrityProblems(quick: quick)
    }

    @Test("a sound database passes, split over 1, 2 and 8 connections, as one whole check says")
    func soundDatabase() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("sound.db")
        try Self.makeSound(path)
        #expect(try Self.whole(path, quick: false) == nil)
        for workers in [1, 2, 8] {
            #expect(try IntegrityCheck(path: path, workers: workers).problems() == nil, "\(workers) workers")
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
        let split = try #require(try IntegrityCheck(path: path, workers: 2).problems())
        #expect(split.contains("t_a"), "\(split) (whole check: \(whole))")
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
}

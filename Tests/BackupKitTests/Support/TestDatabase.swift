import Foundation
@testable import BackupKit

/// Small real SQLite databases for tests, made through the library's own SQLite wrapper.
enum TestDatabase {
    /// A database with `rows` rows in `items(id, body)` and an index, in WAL or rollback mode.
    @discardableResult
    static func make(_ path: String, rows: Int, wal: Bool = true, seed: Int = 1) throws -> SQLiteConnection {
        let db = try SQLiteConnection(path: path, mode: .readWriteCreate)
        try db.execute("PRAGMA journal_mode=\(wal ? "WAL" : "DELETE")")
        try db.execute("CREATE TABLE IF NOT EXISTS items(id INTEGER PRIMARY KEY, body TEXT NOT NULL, n INTEGER)")
        try db.execute("CREATE INDEX IF NOT EXISTS items_n ON items(n)")
        try insert(db, from: 1, count: rows, seed: seed)
        return db
    }

    /// A WAL database of `rows` random 4 KiB blobs in `blobs(id, data)`: it barely
    /// compresses, so 4000 rows make about 16 MiB stored (several S3 parts).
    static func makeIncompressible(_ path: String, rows: Int = 4000) throws {
        let db = try SQLiteConnection(path: path, mode: .readWriteCreate)
        try db.execute("PRAGMA journal_mode=WAL; CREATE TABLE blobs(id INTEGER PRIMARY KEY, data BLOB)")
        try db.execute("BEGIN")
        for i in 1...rows { try db.run("INSERT INTO blobs VALUES (?, randomblob(4096))", [.integer(Int64(i))]) }
        try db.execute("COMMIT")
    }

    /// The rows of a `makeIncompressible` database, in order.
    static func blobs(_ path: String) throws -> [[SQLiteValue]] {
        try SQLiteConnection(path: path, mode: .readOnly).query("SELECT id, data FROM blobs ORDER BY id")
    }

    static func insert(_ db: SQLiteConnection, from first: Int, count: Int, seed: Int = 1) throws {
        try db.execute("BEGIN")
        let statement = try db.prepare("INSERT INTO items(id, body, n) VALUES (?, ?, ?)")
        for id in first..<(first + count) {
            try statement.bind([.integer(Int64(id)), .text("row \(id) seed \(seed) " + String(repeating: "lorem ipsum ", count: id % 7 + 1)),
                                .integer(Int64(id * seed % 97))])
            while try statement.step() {}
            try statement.reset()
        }
        try db.execute("COMMIT")
    }

    /// All rows of `items`, ordered by id.
    static func rows(_ path: String) throws -> [[SQLiteValue]] {
        try SQLiteConnection(path: path, mode: .readOnly).query("SELECT id, body, n FROM items ORDER BY id")
    }

    static func count(_ path: String, table: String = "items") throws -> Int {
        Int(try SQLiteConnection(path: path, mode: .readOnly).query("SELECT count(*) FROM \(table)")[0][0].integer ?? -1)
    }
}

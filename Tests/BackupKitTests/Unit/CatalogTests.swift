import Foundation
import Testing
@testable import BackupKit

struct CatalogTests {
    static func record(_ key: String, at time: Int64) -> BackupRecord {
        BackupRecord(id: UUID().uuidString, objectKey: key, fileName: ObjectKey.fileName(of: key), fileSize: 10, compression: "gzip",
                     storage: "local", checksum: "00", uploadedAt: time, encryption: "aes-256-gcm", encIV: "aXY=", encTag: "dGFn")
    }

    @Test("a new catalog file is created 0600 with the table; rows come back newest first")
    func createInsertList() throws {
        let dir = TemporaryDirectory()
        let catalog = try BackupCatalog(path: dir.file("sub/catalog.sqlite"))
        try catalog.insert(Self.record("backups/a", at: 1))
        try catalog.insert(Self.record("backups/b", at: 3))
        try catalog.insert(Self.record("backups/c", at: 2))
        #expect(try catalog.records().filter { $0.deletedAt == nil }.sorted { $0.uploadedAt > $1.uploadedAt }.map(\.objectKey) == ["backups/b", "backups/c", "backups/a"])
        let attributes = try FileManager.default.attributesOfItem(atPath: dir.file("sub/catalog.sqlite"))
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let folder = try FileManager.default.attributesOfItem(atPath: dir.file("sub"))
        #expect((folder[.posixPermissions] as? Int) == 0o700)
    }

    @Test("a soft-deleted row stays in the catalog with its deletion time")
    func markDeleted() throws {
        let dir = TemporaryDirectory()
        let catalog = try BackupCatalog(path: dir.file("c.sqlite"))
        try catalog.insert(Self.record("k1", at: 1))
        try catalog.markDeleted(objectKey: "k1", at: 99)
        #expect(try catalog.records().map(\.deletedAt) == [99], "the row stays, marked")
        #expect(try catalog.record(forObjectKey: "k1")?.deletedAt == 99)
    }

    @Test("keys are unique")
    func duplicateKeyRefused() throws {
        let dir = TemporaryDirectory()
        let catalog = try BackupCatalog(path: dir.file("c.sqlite"))
        try catalog.insert(Self.record("k1", at: 1))
        #expect(throws: BackupError.self) { try catalog.insert(Self.record("k1", at: 2)) }
    }

    @Test("a backup_files table made by Laju inside the application database is used as it is")
    func existingLajuTableIsUsed() throws {
        let dir = TemporaryDirectory()
        let app = try SQLiteConnection(path: dir.file("app.db"), mode: .readWriteCreate)
        try app.execute("""
            CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);
            CREATE TABLE backup_files (id TEXT PRIMARY KEY, key TEXT UNIQUE, file_name TEXT, file_size INTEGER,
              compression TEXT, storage TEXT, checksum TEXT, uploaded_at INTEGER, deleted_at INTEGER,
              encryption TEXT, enc_iv TEXT, enc_tag TEXT, created_by TEXT);
            INSERT INTO backup_files VALUES ('1', 'backups/app.db-2025-01-10T23:33-x.db.gz.enc', 'f', 5, 'gzip', 's3', 'c', 1736551980000, NULL, 'aes-256-gcm', 'aXY=', 'dGFn', 'laju');
            """)
        let catalog = try BackupCatalog(path: dir.file("app.db"))
        try catalog.insert(Self.record("backups/new", at: 1_736_551_990_000))
        #expect(try catalog.records().filter { $0.deletedAt == nil }.sorted { $0.uploadedAt > $1.uploadedAt }.map(\.objectKey) == ["backups/new", "backups/app.db-2025-01-10T23:33-x.db.gz.enc"])
        #expect(try app.query("SELECT count(*) FROM users")[0][0] == .integer(0))
    }

    @Test("a backup_files table without the needed columns is a configuration error")
    func incompatibleTableRefused() throws {
        let dir = TemporaryDirectory()
        let db = try SQLiteConnection(path: dir.file("old.db"), mode: .readWriteCreate)
        try db.execute("CREATE TABLE backup_files(id INTEGER PRIMARY KEY, filename TEXT, path TEXT, size INTEGER, created_at INTEGER)")
        do {
            _ = try BackupCatalog(path: dir.file("old.db"))
            Issue.record("accepted an incompatible table")
        } catch let error as BackupError {
            #expect(error.exitStatus == .configuration)
            #expect(error.description.contains("BACKUP_CATALOG_PATH"))
        }
    }
}

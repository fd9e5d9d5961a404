import Foundation

/// The `backup_files` table: the fast index of backups. Storage stays the truth; the
/// catalog can be lost and rebuilt from object metadata. It may live in its own file
/// (the default) or in the application database itself, as Laju keeps it.
///
/// Incremental backups add a `kind` column (`incremental`; empty for full backups), the
/// `backup_packs` table (the data objects holding their blocks) and `backup_pack_refs`
/// (which backup uses which pack, and how many of its bytes), all rebuilt from manifests
/// when lost. `backup --keep-forever` adds the `keep_forever` column (1 for a backup clean
/// never deletes; the mark is sealed in `metadata`, so un-marking is `clean-backup --unkeep`).
package final class BackupCatalog {
    static let columns = ["id", "key", "file_name", "file_size", "compression", "storage", "checksum",
                          "uploaded_at", "deleted_at", "encryption", "enc_iv", "enc_tag"]

    private let connection: SQLiteConnection
    package let path: String
    /// Whether `backup_files` has the `kind` column (a read-only open of an older catalog may not).
    private var hasKind = false
    /// Whether `backup_files` has the `keep_forever` column.
    private var hasKeepForever = false
    /// Whether `backup_files` has the `metadata` column (the sealed metadata, JSON).
    private var hasMetadata = false
    /// Whether `backup_files` has the `location` column.
    private var hasLocation = false

    /// Opens the catalog, creating the file (0600) and the table when missing. An existing
    /// table (one Laju made, say) is used as it is if it has the needed columns.
    package init(path: String, create: Bool = true) throws {
        self.path = path
        var info = stat()
        if lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFLNK {
            throw BackupError.configuration("the catalog \(path) is a symbolic link, which the suite never makes (one planted there would make it write into whatever it points to): remove it, or set BACKUP_CATALOG_PATH to the real file")
        }
        if !Files.exists(path) {
            guard create else { throw BackupError.databaseMissing(path: path) }
            try Files.makePrivateDirectory((path as NSString).deletingLastPathComponent)
            try FileDescriptor.createPrivate(path).close()
        }
        let existing: [String]
        do {
            connection = try SQLiteConnection(path: path, mode: create ? .readWrite : .readOnly)
            // A catalog may sit where others can write (the local backup folder): nothing in
            // its schema runs as code. Our tables must be plain tables, with no trigger or view.
            try connection.execute("PRAGMA trusted_schema = OFF")
            let hostile = try connection.query("""
                SELECT type, name FROM sqlite_master
                WHERE (tbl_name IN ('backup_files', 'backup_packs', 'backup_pack_refs') AND type IN ('trigger', 'view'))
                   OR (name IN ('backup_files', 'backup_packs', 'backup_pack_refs') AND type <> 'table')
                """)
            if let first = hostile.first {
                throw BackupError.configuration("the catalog \(path) has a \(first[0].text ?? "?") \(first[1].text ?? "?") on the suite's tables, which it never makes: move the file away (the catalog is rebuilt from storage by 'restore --list') or point BACKUP_CATALOG_PATH elsewhere")
            }
            existing = try connection.query("PRAGMA table_info(backup_files)").compactMap { $0.count > 1 ? $0[1].text : nil }
        } catch BackupError.notADatabase, BackupError.integrityCheckFailed {
            throw BackupError.configuration("the catalog \(path) is not a usable SQLite database: move it away (it is rebuilt from storage by 'restore --list') or point BACKUP_CATALOG_PATH elsewhere")
        }
        if existing.isEmpty {
            guard create else { throw BackupError.configuration("\(path) has no backup_files table: check BACKUP_CATALOG_PATH") }
            try connection.execute("""
                CREATE TABLE IF NOT EXISTS backup_files (
                    id TEXT PRIMARY KEY,
                    key TEXT NOT NULL UNIQUE,
                    file_name TEXT NOT NULL,
                    file_size INTEGER NOT NULL,
                    compression TEXT,
                    storage TEXT NOT NULL,
                    checksum TEXT,
                    uploaded_at INTEGER NOT NULL,
                    deleted_at INTEGER,
                    encryption TEXT,
                    enc_iv TEXT,
                    enc_tag TEXT
                );
                CREATE INDEX IF NOT EXISTS backup_files_uploaded_at ON backup_files(uploaded_at);
                """)
        } else {
            let missing = Self.columns.filter { !existing.contains($0) }
            guard missing.isEmpty else {
                throw BackupError.configuration("the backup_files table in \(path) lacks the columns \(missing.joined(separator: ", ")): point BACKUP_CATALOG_PATH at another file")
            }
        }
        hasKind = existing.contains("kind")
        hasKeepForever = existing.contains("keep_forever")
        hasMetadata = existing.contains("metadata")
        hasLocation = existing.contains("location")
        if create {
            if !hasKind {
                try connection.execute("ALTER TABLE backup_files ADD COLUMN kind TEXT")
                hasKind = true
            }
            if !hasKeepForever {
                try connection.execute("ALTER TABLE backup_files ADD COLUMN keep_forever INTEGER NOT NULL DEFAULT 0")
                hasKeepForever = true
            }
            if !hasMetadata {
                try connection.execute("ALTER TABLE backup_files ADD COLUMN metadata TEXT")
                hasMetadata = true
            }
            if !hasLocation {
                try connection.execute("ALTER TABLE backup_files ADD COLUMN location TEXT")
                hasLocation = true
            }
            try connection.execute("""
                CREATE TABLE IF NOT EXISTS backup_packs (
                    key TEXT PRIMARY KEY,
                    database TEXT,
                    file_size INTEGER NOT NULL,
                    checksum TEXT,
                    storage TEXT NOT NULL,
                    uploaded_at INTEGER NOT NULL,
                    deleted_at INTEGER
                );
                CREATE TABLE IF NOT EXISTS backup_pack_refs (
                    backup_key TEXT NOT NULL,
                    pack_key TEXT NOT NULL,
                    bytes INTEGER NOT NULL,
                    PRIMARY KEY (backup_key, pack_key)
                );
                """)
        }
    }

    /// Records a pack (a data object of incremental backups).
    package func insertPack(objectKey: String, database: String, size: Int64, checksum: String, storage: String,
                            uploadedAt: Int64) throws {
        try connection.run("""
            INSERT OR REPLACE INTO backup_packs (key, database, file_size, checksum, storage, uploaded_at, deleted_at)
            VALUES (?, ?, ?, ?, ?, ?, NULL)
            """, [.text(objectKey), .text(database), .integer(size), .text(checksum), .text(storage), .integer(uploadedAt)])
    }

    /// Records which packs the incremental backup `backupKey` uses, with the bytes it uses in each.
    package func insertReferences(backupKey: String, packs: [(objectKey: String, bytes: Int64)]) throws {
        try connection.execute("BEGIN")
        do {
            for pack in packs {
                try connection.run("INSERT OR REPLACE INTO backup_pack_refs (backup_key, pack_key, bytes) VALUES (?, ?, ?)",
                                   [.text(backupKey), .text(pack.objectKey), .integer(pack.bytes)])
            }
            try connection.execute("COMMIT")
        } catch {
            try? connection.execute("ROLLBACK")
            throw error
        }
    }

    /// The packs each incremental backup uses, by the backup's object key (empty when the
    /// catalog has no such table yet).
    package func packReferences() throws -> [String: Set<String>] {
        guard try !connection.query("SELECT name FROM sqlite_master WHERE name = 'backup_pack_refs'").isEmpty else { return [:] }
        var references: [String: Set<String>] = [:]
        for row in try connection.query("SELECT backup_key, pack_key FROM backup_pack_refs") {
            if let backup = row[0].text, let pack = row[1].text { references[backup, default: []].insert(pack) }
        }
        return references
    }

    /// Soft-deletes the row of a pack deleted from storage.
    package func markPackDeleted(objectKey: String, at time: Int64) throws {
        try connection.run("UPDATE backup_packs SET deleted_at = ? WHERE key = ? AND deleted_at IS NULL",
                           [.integer(time), .text(objectKey)])
    }

    /// Adds a row for a stored object.
    package func insert(_ record: BackupRecord) throws {
        try connection.run("""
            INSERT INTO backup_files (id, key, file_name, file_size, compression, storage, checksum,
                                      uploaded_at, deleted_at, encryption, enc_iv, enc_tag, kind, keep_forever, metadata, location)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, Self.values(of: record) + [record.kind.map(SQLiteValue.text) ?? .null, .integer(record.keepForever ? 1 : 0),
                                             try record.sealedMetadata.map { .text(String(decoding: try $0.sidecarJSON(), as: UTF8.self)) } ?? .null,
                                             record.location.map(SQLiteValue.text) ?? .null])
    }

    /// The row for `key`, live or deleted.
    package func record(forObjectKey key: String) throws -> BackupRecord? {
        try connection.query("SELECT \(selected) FROM backup_files WHERE key = ?", [.text(key)])
            .first.map(Self.record)
    }

    /// Every row, live or deleted.
    package func records() throws -> [BackupRecord] {
        try connection.query("SELECT \(selected) FROM backup_files").map(Self.record)
    }

    /// Soft-deletes the row for `key`.
    package func markDeleted(objectKey key: String, at time: Int64) throws {
        try connection.run("UPDATE backup_files SET deleted_at = ? WHERE key = ? AND deleted_at IS NULL", [.integer(time), .text(key)])
    }

    /// Replaces the sealed metadata of `key`'s row (`clean-backup --unkeep` writes a new seal).
    package func updateSealedMetadata(objectKey key: String, _ metadata: ObjectMetadata) throws {
        try connection.run("UPDATE backup_files SET metadata = ?, keep_forever = ? WHERE key = ?",
                           [.text(String(decoding: try metadata.sidecarJSON(), as: UTF8.self)),
                            .integer(metadata.keptForever ? 1 : 0), .text(key)])
    }

    /// The columns a query reads: Laju's, then `kind`, `keep_forever` and `metadata` (NULL when missing).
    private var selected: String {
        Self.columns.joined(separator: ", ") + (hasKind ? ", kind" : ", NULL") + (hasKeepForever ? ", keep_forever" : ", NULL")
            + (hasMetadata ? ", CASE WHEN length(metadata) <= 65536 THEN metadata END" : ", NULL")
            + (hasLocation ? ", location" : ", NULL")
    }

    private static func values(of r: BackupRecord) -> [SQLiteValue] {
        func text(_ s: String?) -> SQLiteValue { s.map(SQLiteValue.text) ?? .null }
        return [.text(r.id), .text(r.objectKey), .text(r.fileName), .integer(r.fileSize), text(r.compression),
                .text(r.storage), text(r.checksum), .integer(r.uploadedAt), r.deletedAt.map(SQLiteValue.integer) ?? .null,
                text(r.encryption), text(r.encIV), text(r.encTag)]
    }

    private static func record(_ row: [SQLiteValue]) -> BackupRecord {
        BackupRecord(id: row[0].text ?? "", objectKey: row[1].text ?? "", fileName: row[2].text ?? "",
                     fileSize: row[3].integer ?? 0, compression: row[4].text, storage: row[5].text ?? "",
                     checksum: row[6].text, uploadedAt: row[7].integer ?? 0, deletedAt: row[8].integer,
                     encryption: row[9].text, encIV: row[10].text, encTag: row[11].text, kind: row[12].text,
                     keepForever: (row[13].integer ?? 0) != 0,
                     sealedMetadata: row[14].text.flatMap { ObjectMetadata.fromSidecarJSON(Data($0.utf8)) },
                     location: row[15].text)
    }
}
